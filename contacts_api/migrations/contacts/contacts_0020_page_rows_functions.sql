-- A page's contacts joined to their company and metadata by a plan each session keeps.
-- depends: contacts_0019_country_created_at_index
--
-- A list page is one statement: an inner query finds the page's contact uuids
-- (filters, ordering, keyset, limit), and an outer one joins those 26 rows to
-- contacts, companies and the two metadata tables for the view's 54 columns.
-- Planning that outer join cost PostgreSQL more than the inner query's whole
-- run on cheap pages (0.55 of 0.61 ms of planning, EXPLAIN SUMMARY at 1M), on
-- every request, because the inner query's values are inlined and no plan is
-- kept between statements.
--
-- The outer join has one right plan whatever the filters: a nested loop of
-- primary-key lookups for each uuid, in the page's order. So it moves here, in
-- plpgsql, whose statements keep their plan for the session (a generic plan,
-- forced: the estimate for unnest of a parameter differs from that of a
-- constant array, and the plan cache would otherwise keep planning it). A page
-- statement is then
--     SELECT * FROM contacts_page_rows_full(
--         (SELECT array_agg(page.uuid ORDER BY <ordering>) FROM (<inner>) AS page))
-- and plans only its inner query. pgbench, 10 clients, seniority=director and
-- 51-200 employees: 837 -> 1,167 statements/s.
--
-- STABLE: the function reads in the calling statement's snapshot, so the page
-- and its rows are one consistent read (gated_lookups relies on that).
-- The column lists are repository.PAGE_COLUMNS' (tests/plugins/contacts/
-- test_page_rows.py compares them and the rows with a plain join); a later
-- change to these tables' columns replaces the functions in a migration.

CREATE FUNCTION contacts_page_rows_full(page_uuids uuid[])
RETURNS TABLE (
    uuid uuid,
    first_name text,
    last_name text,
    email text,
    title text,
    seniority text,
    departments text[],
    email_status text,
    mobile_phone text,
    city text,
    state text,
    country text,
    linkedin_url text,
    company_uuid uuid,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    company_name text,
    company_employees integer,
    company_annual_revenue bigint,
    company_total_funding bigint,
    company_domain text,
    m_present uuid,
    m_work_direct_phone text,
    m_home_phone text,
    m_other_phone text,
    m_twitter_url text,
    m_facebook_url text,
    m_website text,
    m_stage text,
    co_uuid uuid,
    co_name text,
    co_domain text,
    co_employees_count integer,
    co_industries text[],
    co_keywords text[],
    co_technologies text[],
    co_annual_revenue bigint,
    co_total_funding bigint,
    co_address text,
    co_city text,
    co_state text,
    co_country text,
    co_created_at timestamp with time zone,
    co_updated_at timestamp with time zone,
    cm_present uuid,
    cm_website text,
    cm_linkedin_url text,
    cm_facebook_url text,
    cm_twitter_url text,
    cm_phone_number text,
    cm_company_name_for_emails text,
    cm_latest_funding text,
    cm_latest_funding_amount bigint,
    cm_last_raised_at text
)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT
        contacts.uuid,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.title,
        contacts.seniority,
        contacts.departments,
        contacts.email_status,
        contacts.mobile_phone,
        contacts.city,
        contacts.state,
        contacts.country,
        contacts.linkedin_url,
        contacts.company_uuid,
        contacts.created_at,
        contacts.updated_at,
        contacts.company_name,
        contacts.company_employees,
        contacts.company_annual_revenue,
        contacts.company_total_funding,
        companies.domain,
        contact_metadata.contact_uuid,
        contact_metadata.work_direct_phone,
        contact_metadata.home_phone,
        contact_metadata.other_phone,
        contact_metadata.twitter_url,
        contact_metadata.facebook_url,
        contact_metadata.website,
        contact_metadata.stage,
        companies.uuid,
        companies.name,
        companies.domain,
        companies.employees_count,
        companies.industries,
        companies.keywords,
        companies.technologies,
        companies.annual_revenue,
        companies.total_funding,
        companies.address,
        companies.city,
        companies.state,
        companies.country,
        companies.created_at,
        companies.updated_at,
        company_metadata.company_uuid,
        company_metadata.website,
        company_metadata.linkedin_url,
        company_metadata.facebook_url,
        company_metadata.twitter_url,
        company_metadata.phone_number,
        company_metadata.company_name_for_emails,
        company_metadata.latest_funding,
        company_metadata.latest_funding_amount,
        company_metadata.last_raised_at
    FROM unnest(page_uuids) WITH ORDINALITY AS page (uuid, position)
    JOIN contacts ON contacts.uuid = page.uuid
    LEFT JOIN companies ON companies.uuid = contacts.company_uuid
    LEFT JOIN contact_metadata ON contact_metadata.contact_uuid = contacts.uuid
    LEFT JOIN company_metadata ON company_metadata.company_uuid = companies.uuid
    ORDER BY page.position;
END
$$;

CREATE FUNCTION contacts_page_rows_simple(page_uuids uuid[])
RETURNS TABLE (
    uuid uuid,
    first_name text,
    last_name text,
    email text,
    title text,
    seniority text,
    departments text[],
    email_status text,
    mobile_phone text,
    city text,
    state text,
    country text,
    linkedin_url text,
    company_uuid uuid,
    created_at timestamp with time zone,
    updated_at timestamp with time zone,
    company_name text,
    company_employees integer,
    company_annual_revenue bigint,
    company_total_funding bigint,
    company_domain text
)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT
        contacts.uuid,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.title,
        contacts.seniority,
        contacts.departments,
        contacts.email_status,
        contacts.mobile_phone,
        contacts.city,
        contacts.state,
        contacts.country,
        contacts.linkedin_url,
        contacts.company_uuid,
        contacts.created_at,
        contacts.updated_at,
        contacts.company_name,
        contacts.company_employees,
        contacts.company_annual_revenue,
        contacts.company_total_funding,
        companies.domain
    FROM unnest(page_uuids) WITH ORDINALITY AS page (uuid, position)
    JOIN contacts ON contacts.uuid = page.uuid
    LEFT JOIN companies ON companies.uuid = contacts.company_uuid
    ORDER BY page.position;
END
$$;
