-- The same schema, written otherwise: case, spacing, quoting, type
-- synonyms (int, decimal, varchar), constraints in another order. (One
-- spelling is kept: on SQLite only INTEGER PRIMARY KEY is the rowid, INT
-- PRIMARY KEY is another column, and another schema.)
create table "prompts"(
  code varchar( 20 ) unique,
  ID INTEGER primary key,
  Name character varying(255) not null,
  PRICE decimal(10,2),
  weight int check(weight>0),
  constraint uq_name unique(name),
  constraint ck_price check (price >= 0)
)  ;
create index IX_PROMPTS_CODE on Prompts(Code);
