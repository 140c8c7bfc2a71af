-- Dashboard sessions (src/dashboard/sessions.ts): the cookie's id only as its SHA-256.
CREATE TABLE "DashboardSession" (
    "idHash" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "accessToken" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DashboardSession_pkey" PRIMARY KEY ("idHash")
);

CREATE INDEX "DashboardSession_expiresAt_idx" ON "DashboardSession"("expiresAt");

-- The statistics (src/services/statistics.ts) of an operator read every order of a period, and
-- partner health the events of the last hour.
CREATE INDEX "Order_createdAt_idx" ON "Order"("createdAt");
CREATE INDEX "OrderEvent_at_idx" ON "OrderEvent"("at");
