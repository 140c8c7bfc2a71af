-- CreateEnum
CREATE TYPE "OrderStatus" AS ENUM ('CREATED', 'INITIALIZED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED', 'ERROR', 'NEGATIVELY_CONDUCTED', 'TIMEOUT', 'CANCELED', 'ABORTED');

-- CreateEnum
CREATE TYPE "OrderEventType" AS ENUM ('STATUS_CHANGED', 'EVIDENCE_IMPORTED', 'TERMS_SENT', 'TERMS_ACCEPTED', 'TERMS_DECLINED');

-- CreateEnum
CREATE TYPE "EvidenceStatus" AS ENUM ('ACTIVE', 'EXPIRED', 'REVOKED');

-- CreateEnum
CREATE TYPE "TermsStatus" AS ENUM ('NOT_REQUIRED', 'PENDING', 'ACCEPTED', 'DECLINED', 'EXPIRED');

-- CreateEnum
CREATE TYPE "TermsChannel" AS ENUM ('SMS_LINK', 'IN_APP', 'SERVICE_PROVIDER');

-- CreateEnum
CREATE TYPE "SmsStatus" AS ENUM ('PENDING', 'SENT', 'FAILED');

-- CreateEnum
CREATE TYPE "VerificationOperation" AS ENUM ('LOOKUP', 'VERIFY');

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
    "initialDataSealed" TEXT NOT NULL,
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
    "mobileNumberHash" TEXT NOT NULL,
    "mobileNumberSealed" TEXT NOT NULL,
    "personalDataSealed" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "methodName" TEXT NOT NULL,
    "capabilities" JSONB NOT NULL,
    "identifiedAt" TIMESTAMP(3) NOT NULL,
    "validUntil" TIMESTAMP(3) NOT NULL,
    "status" "EvidenceStatus" NOT NULL DEFAULT 'ACTIVE',
    "revokedAt" TIMESTAMP(3),
    "revocationReason" TEXT,
    "jws" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Evidence_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TermsAcceptance" (
    "id" TEXT NOT NULL,
    "evidenceId" TEXT NOT NULL,
    "status" "TermsStatus" NOT NULL,
    "channel" "TermsChannel" NOT NULL,
    "termsVersion" TEXT NOT NULL,
    "smsSentAt" TIMESTAMP(3),
    "decidedAt" TIMESTAMP(3),
    "linkTokenHash" TEXT,
    "linkExpiresAt" TIMESTAMP(3),
    "clientFingerprint" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TermsAcceptance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SmsMessage" (
    "id" TEXT NOT NULL,
    "recipientSealed" TEXT NOT NULL,
    "textSealed" TEXT NOT NULL,
    "termsId" TEXT,
    "status" "SmsStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastError" TEXT,
    "sentAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SmsMessage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VerificationAudit" (
    "id" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "operation" "VerificationOperation" NOT NULL,
    "mobileNumberHash" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "valid" BOOLEAN NOT NULL,
    "evidenceId" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "VerificationAudit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SimulatedIdentification" (
    "id" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "refId" TEXT NOT NULL,
    "orderToken" TEXT NOT NULL,
    "language" TEXT,
    "initialDataSealed" TEXT NOT NULL,
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
CREATE INDEX "Evidence_mobileNumberHash_idx" ON "Evidence"("mobileNumberHash");

-- CreateIndex
CREATE INDEX "Evidence_createdAt_idx" ON "Evidence"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "TermsAcceptance_evidenceId_key" ON "TermsAcceptance"("evidenceId");

-- CreateIndex
CREATE UNIQUE INDEX "TermsAcceptance_linkTokenHash_key" ON "TermsAcceptance"("linkTokenHash");

-- CreateIndex
CREATE INDEX "SmsMessage_status_nextAttemptAt_idx" ON "SmsMessage"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "VerificationAudit_clientId_at_idx" ON "VerificationAudit"("clientId", "at");

-- CreateIndex
CREATE UNIQUE INDEX "SimulatedIdentification_refId_key" ON "SimulatedIdentification"("refId");

-- AddForeignKey
ALTER TABLE "Order" ADD CONSTRAINT "Order_methodId_fkey" FOREIGN KEY ("methodId") REFERENCES "IdentificationMethod"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OrderEvent" ADD CONSTRAINT "OrderEvent_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Evidence" ADD CONSTRAINT "Evidence_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TermsAcceptance" ADD CONSTRAINT "TermsAcceptance_evidenceId_fkey" FOREIGN KEY ("evidenceId") REFERENCES "Evidence"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SmsMessage" ADD CONSTRAINT "SmsMessage_termsId_fkey" FOREIGN KEY ("termsId") REFERENCES "TermsAcceptance"("id") ON DELETE SET NULL ON UPDATE CASCADE;

