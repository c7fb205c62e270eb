-- Contacts and companies (docs/api.md "Contacts and companies").
-- Lists are text[] (GIN-indexable); emails and domains are unique where present.
-- Indexes for the filters and orderings come in later migrations, chosen with EXPLAIN.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE companies (
    uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text,
    -- bare lower-case host of the website: the upsert key when present
    domain text CHECK (domain IS NULL OR (domain = lower(domain) AND domain <> '')),
    employees_count integer CHECK (employees_count IS NULL OR employees_count >= 0),
    industries text[] NOT NULL DEFAULT '{}',
    keywords text[] NOT NULL DEFAULT '{}',
    technologies text[] NOT NULL DEFAULT '{}',
    annual_revenue bigint,
    total_funding bigint,
    address text,
    city text,
    state text,
    country text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX companies_domain_key ON companies (domain) WHERE domain IS NOT NULL;
-- companies without a domain are matched by case-insensitive name
CREATE INDEX companies_lower_name_idx ON companies (lower(name));

CREATE TABLE company_metadata (
    company_uuid uuid PRIMARY KEY REFERENCES companies (uuid) ON DELETE CASCADE,
    website text,
    linkedin_url text,
    facebook_url text,
    twitter_url text,
    phone_number text,
    company_name_for_emails text,
    latest_funding text,
    latest_funding_amount bigint,
    last_raised_at text
);

CREATE TABLE contacts (
    uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    first_name text,
    last_name text,
    -- stored trimmed and lower-cased; unique where present
    email text CHECK (email IS NULL OR (email = lower(email) AND email <> '')),
    title text,
    seniority text CHECK (seniority IS NULL OR seniority IN (
        'owner', 'founder', 'c_suite', 'partner', 'vp', 'head', 'director',
        'manager', 'senior', 'entry', 'intern')),
    departments text[] NOT NULL DEFAULT '{}',
    email_status text CHECK (email_status IS NULL OR email_status IN (
        'verified', 'unverified', 'likely_to_engage', 'unavailable', 'bounced')),
    mobile_phone text,
    city text,
    state text,
    country text,
    linkedin_url text,
    company_uuid uuid REFERENCES companies (uuid) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_email_key ON contacts (email) WHERE email IS NOT NULL;
CREATE INDEX contacts_company_uuid_idx ON contacts (company_uuid);

CREATE TABLE contact_metadata (
    contact_uuid uuid PRIMARY KEY REFERENCES contacts (uuid) ON DELETE CASCADE,
    work_direct_phone text,
    home_phone text,
    other_phone text,
    twitter_url text,
    facebook_url text,
    website text,
    stage text
);
