-- strata: revision=0f1e2d3c4b5a revises=a1b2c3d4e5f6
-- strata: message="add note title"

-- strata: up
ALTER TABLE notes ADD COLUMN title TEXT;

-- strata: down
ALTER TABLE notes DROP COLUMN title;
