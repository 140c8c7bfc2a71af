-- Per-client rate limits (issue 12): an operator's limit per client, and the counters shared by
-- every process when the service runs on PostgreSQL (rate-limiter-flexible's table layout).

ALTER TABLE "Client" ADD COLUMN "rateLimitPerSecond" INTEGER;

-- UNLOGGED: the counters live for seconds; losing them in a crash costs nothing, and writing
-- them without WAL keeps one upsert per request cheap (no WAL flush at commit).
CREATE UNLOGGED TABLE "RateLimit" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "RateLimit_pkey" PRIMARY KEY ("key")
);
