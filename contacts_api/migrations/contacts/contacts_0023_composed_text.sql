-- Stored text in Unicode's composed form (NFC), as filters compare it.
-- depends: contacts_0022_vacuum_after_company_name_key
--
-- Filters compose their values (core/filters.py: "é" is one character), but
-- writes stored text as sent: a company name written decomposed ("e" and a
-- combining accent, as macOS and some CSV exports write it) could not be found
-- by its own spelling either way, and an exclusion let it through (found by an
-- outside check). Writes now compose text (plugins/contacts/normalize.py:
-- composed, in the API's writes and the CSV import); this composes what is
-- stored already. Each table is read once; only rows holding decomposed text
-- are written (none, usually), and their triggers keep the copies (a company's
-- name on its contacts) and the dictionaries in step. Generated keys follow.

DO $$
DECLARE
    target text;
    sets text;
    decomposed text;
BEGIN
    -- normalize() needs a UTF8 database; in another encoding no text is decomposed
    -- Unicode PostgreSQL could compose
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RETURN;
    END IF;
    FOREACH target IN ARRAY ARRAY['companies', 'contacts', 'company_metadata', 'contact_metadata']
    LOOP
        SELECT
            string_agg(format(
                CASE WHEN c.data_type = 'ARRAY'
                    THEN '%1$I = ARRAY(SELECT normalize(v, NFC) FROM unnest(%1$I)'
                         ' WITH ORDINALITY AS e (v, n) ORDER BY n)'
                    ELSE '%1$I = normalize(%1$I, NFC)' END, c.column_name), ', '),
            string_agg(format(
                CASE WHEN c.data_type = 'ARRAY'
                    -- chr(31) is a starter: nothing composes across it
                    THEN 'NOT (array_to_string(%1$I, chr(31)) IS NFC NORMALIZED)'
                    ELSE 'NOT (%1$I IS NFC NORMALIZED)' END, c.column_name), ' OR ')
        INTO sets, decomposed
        FROM information_schema.columns c
        WHERE c.table_schema = current_schema() AND c.table_name = target
            AND c.is_generated = 'NEVER'
            AND (c.data_type = 'text' OR (c.data_type = 'ARRAY' AND c.udt_name = '_text'));
        IF sets IS NOT NULL THEN
            EXECUTE format('UPDATE %I SET %s WHERE %s', target, sets, decomposed);
        END IF;
    END LOOP;
END
$$;
