-- OAuth2 payloads are stored under the SHA-256 of their id (src/auth/oidc-adapter.ts storedIdOf):
-- the id of an access or order token is the token itself. Rows stored before are hashed in place
-- (base64url without padding, as storedIdOf writes it), and the copy of the token in the payload
-- (`jti`) is dropped, so every token issued before keeps working and none stays in clear.
UPDATE "OidcPayload"
SET "id" = rtrim(translate(encode(sha256(convert_to("id", 'UTF8')), 'base64'), '+/', '-_'), '='),
    "payload" = "payload" - 'jti';

-- Order tokens of ended orders were revoked when they ended: nothing needs them any more, and new
-- ones are stored sealed. (Tokens and target URLs of open orders stay readable as they were.)
UPDATE "Order" SET "orderToken" = NULL
WHERE "status" IN ('TERMINATED', 'ERROR', 'NEGATIVELY_CONDUCTED', 'TIMEOUT', 'CANCELED');
