-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    price NUMERIC(10, 2),
    weight INTEGER CHECK (weight > 0),
    code CHARACTER VARYING(20) UNIQUE,
    CONSTRAINT ck_price CHECK (price >= 0),
    CONSTRAINT uq_name UNIQUE (name)
);
CREATE INDEX ix_prompts_code ON prompts (code);

-- strata: down
DROP TABLE prompts;
