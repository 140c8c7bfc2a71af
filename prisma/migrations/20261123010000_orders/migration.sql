-- CreateEnum
CREATE TYPE "OrderStatus" AS ENUM ('CREATED', 'INITIALIZED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED', 'ERROR', 'NEGATIVELY_CONDUCTED', 'TIMEOUT', 'CANCELED', 'ABORTED');

-- CreateEnum
CREATE TYPE "OrderEventType" AS ENUM ('STATUS_CHANGED', 'EVIDENCE_IMPORTED', 'TERMS_SENT', 'TERMS_ACCEPTED', 'TERMS_DECLINED');

-- CreateEnum
CREATE TYPE "EvidenceStatus" AS ENUM ('ACTIVE', 'EXPIRED', 'REVOKED');

-- CreateTable
CREATE TABLE "Order" (
    "id" TEXT NOT NULL,
    "refId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "methodId" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "status" "OrderStatus" NOT NULL,
    "statusReason" TEXT,
    "ipspOrderId" TEXT,
    "targetUrl" TEXT,
    "targetUrlExpiresAt" TIMESTAMP(3),
    "orderToken" TEXT,
    "externalId" TEXT,
    "language" TEXT,
    "disabledSmsAlerts" BOOLEAN NOT NULL DEFAULT false,
    "initialData" JSONB NOT NULL,
    "idempotencyKey" TEXT,
    "requestHash" TEXT,
    "startedAt" TIMESTAMP(3),
    "lastActivityAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Order_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OrderEvent" (
    "id" TEXT NOT NULL,
    "sequence" BIGSERIAL NOT NULL,
    "orderId" TEXT NOT NULL,
    "type" "OrderEventType" NOT NULL,
    "status" "OrderStatus" NOT NULL,
    "previousStatus" "OrderStatus",
    "reason" TEXT,
    "actor" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OrderEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Evidence" (
    "id" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "mobileNumber" TEXT NOT NULL,
    "subject" JSONB NOT NULL,
    "document" JSONB NOT NULL,
    "issuer" TEXT NOT NULL,
    "methodName" TEXT NOT NULL,
    "capabilities" JSONB NOT NULL,
    "identifiedAt" TIMESTAMP(3) NOT NULL,
    "validUntil" TIMESTAMP(3) NOT NULL,
    "status" "EvidenceStatus" NOT NULL DEFAULT 'ACTIVE',
    "termsInApp" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Evidence_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SimulatedIdentification" (
    "id" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "refId" TEXT NOT NULL,
    "orderToken" TEXT NOT NULL,
    "language" TEXT,
    "initialData" JSONB NOT NULL,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMP(3),
    "closed" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SimulatedIdentification_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Order_refId_key" ON "Order"("refId");

-- CreateIndex
CREATE INDEX "Order_clientId_createdAt_idx" ON "Order"("clientId", "createdAt");

-- CreateIndex
CREATE INDEX "Order_issuer_createdAt_idx" ON "Order"("issuer", "createdAt");

-- CreateIndex
CREATE INDEX "Order_status_idx" ON "Order"("status");

-- CreateIndex
CREATE UNIQUE INDEX "Order_clientId_idempotencyKey_key" ON "Order"("clientId", "idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "OrderEvent_sequence_key" ON "OrderEvent"("sequence");

-- CreateIndex
CREATE INDEX "OrderEvent_orderId_sequence_idx" ON "OrderEvent"("orderId", "sequence");

-- CreateIndex
CREATE UNIQUE INDEX "Evidence_orderId_key" ON "Evidence"("orderId");

-- CreateIndex
CREATE INDEX "Evidence_mobileNumber_idx" ON "Evidence"("mobileNumber");

-- CreateIndex
CREATE UNIQUE INDEX "SimulatedIdentification_refId_key" ON "SimulatedIdentification"("refId");

-- AddForeignKey
ALTER TABLE "Order" ADD CONSTRAINT "Order_methodId_fkey" FOREIGN KEY ("methodId") REFERENCES "IdentificationMethod"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OrderEvent" ADD CONSTRAINT "OrderEvent_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Evidence" ADD CONSTRAINT "Evidence_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

