-- OAuth clients (Adobe IMS client credentials): a client id and a hashed secret registered with
-- one token, whose identity the client's access tokens carry. Revoking the token removes the
-- client and its access tokens.
CREATE TABLE clients (
    client_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL REFERENCES tokens (hash) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT clients_pkey PRIMARY KEY (client_id)
);

CREATE INDEX clients_by_token ON clients (token_hash);

-- Access tokens issued by POST /ims/token/v3, by hash, valid until expires_at (µs).
CREATE TABLE access_tokens (
    hash        TEXT NOT NULL,
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    CONSTRAINT access_tokens_pkey PRIMARY KEY (hash)
);

CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);
CREATE INDEX access_tokens_by_client ON access_tokens (client_id);

-- Adobe lists definitions sorted by description: byte order, as names already are, so both
-- backends return the same order whatever the database's default collation.
ALTER TABLE segments ALTER COLUMN description TYPE TEXT COLLATE "C";
