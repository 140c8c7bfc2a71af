-- Dashboard sessions keep their access token sealed with the data keys (src/dashboard/sessions.ts).
-- Sessions stored before held it in clear: they are deleted (their users sign in again), and the
-- column is renamed so that no code reads a clear token from it by mistake.
DELETE FROM "DashboardSession";

ALTER TABLE "DashboardSession" RENAME COLUMN "accessToken" TO "accessTokenSealed";
