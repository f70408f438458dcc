/**
 * `npm run demo` — consumer groups (scripts/consumer-demo.ts); `npm run demo -- share` — share groups
 * (scripts/share-demo.ts). Each starts its own local coordinator and exits by itself.
 */

const which = process.argv[2] ?? "consumer";
if (which === "share") await import("./share-demo.ts");
else if (which === "consumer") await import("./consumer-demo.ts");
else {
  console.error(`unknown demo '${which}': npm run demo [-- consumer | share]`);
  process.exitCode = 2;
}

export {};
