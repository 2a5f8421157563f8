-- strata: revision=a1
-- strata: message="initial"

-- strata: up dialect=postgresql
CREATE TABLE orders (id serial PRIMARY KEY, ref bigserial, note TEXT);
CREATE TABLE items (id integer NOT NULL, name TEXT);
INSERT INTO orders (note) VALUES ('a'), ('b');
INSERT INTO items (id, name) VALUES (1, 'x'), (5, 'y');

-- strata: down dialect=postgresql
DROP TABLE items;
DROP TABLE orders;
