/** The secret integration tests sign their tokens with (never used outside tests). */
export const TEST_JWT_SECRET = "cohort-test-secret-not-for-production";
