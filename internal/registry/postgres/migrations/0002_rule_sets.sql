-- A schema's data-contract rules (Confluent's ruleSet) as JSON, '' when
-- none. The id names text and rules together, as in Confluent: the digest
-- covers the rule set when there is one, so existing rows keep theirs.
ALTER TABLE registry_schemas ADD COLUMN rule_set TEXT NOT NULL DEFAULT '';
