-- Who has logged in, and their todos. The limits repeat the ones the views check, so
-- that no other writer can store what the views would refuse.
CREATE TABLE users (
    name VARCHAR(100) PRIMARY KEY CHECK (name <> ''),
    last_login BIGINT
);

CREATE TABLE todos (
    id BIGSERIAL PRIMARY KEY,
    owner VARCHAR(100) NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    title VARCHAR(200) NOT NULL CHECK (title <> ''),
    done BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (owner, title)
);
