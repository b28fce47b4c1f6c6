-- A version's data-contract rules (Confluent's ruleSet) as JSON, '' when
-- none. Per version, not per schema: the same text may carry other rules in
-- a later version.
ALTER TABLE registry_versions ADD COLUMN rule_set TEXT NOT NULL DEFAULT '';
