-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prices (
    id INTEGER PRIMARY KEY,
    amount INTEGER NOT NULL,
    total INTEGER GENERATED ALWAYS AS (amount * 2) STORED
);
INSERT INTO prices (id, amount) VALUES (1, 10), (2, 20);

-- strata: down
DROP TABLE prices;
