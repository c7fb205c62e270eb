"""Our resources reshaped into the fields the app's mappers read.

Pure functions from our JSON (docs/api.md) to the dialect's JSON; nothing here
decides what is stored or matched.
"""

from typing import Any

# Our roles, as the app spells them (its User['role']: 'Admin' | 'Manager' | 'Member').
ROLE_NAMES = {"admin": "Admin", "user": "Member"}
ROLES_FROM_APP = {"Admin": "admin", "Member": "user", "admin": "admin", "user": "user"}

# Our job / export status words -> the app's (ImportJobStatus, export status).
IMPORT_STATUS = {
    "pending": "pending",
    "processing": "running",
    "completed": "completed",
    "failed": "failed",
}


def _joined(values: list[str] | None) -> str | None:
    """The app renders list attributes as text: ``"saas, crm"``."""
    return ", ".join(values) if values else None


def _meta(resource: dict[str, Any] | None, key: str) -> Any:
    metadata = (resource or {}).get("metadata") or {}
    return metadata.get(key)


def flat_contact(contact: dict[str, Any]) -> dict[str, Any]:
    """The app's ApiContact: company fields at the top level, company name as text."""
    company = contact.get("company") or {}
    phone = _meta(company, "phone_number")
    return {
        "uuid": contact["uuid"],
        "first_name": contact.get("first_name"),
        "last_name": contact.get("last_name"),
        "title": contact.get("title"),
        "email": contact.get("email"),
        "email_status": contact.get("email_status"),
        "primary_email_catch_all_status": None,
        "seniority": contact.get("seniority"),
        "departments": _joined(contact.get("departments")),
        "mobile_phone": contact.get("mobile_phone"),
        "work_direct_phone": _meta(contact, "work_direct_phone"),
        "home_phone": _meta(contact, "home_phone"),
        "other_phone": _meta(contact, "other_phone"),
        "corporate_phone": phone,
        "stage": _meta(contact, "stage"),
        "city": contact.get("city"),
        "state": contact.get("state"),
        "country": contact.get("country"),
        "person_linkedin_url": contact.get("linkedin_url"),
        "facebook_url": _meta(contact, "facebook_url"),
        "twitter_url": _meta(contact, "twitter_url"),
        "website": _meta(contact, "website") or _meta(company, "website"),
        "company": company.get("name"),
        "company_uuid": company.get("uuid"),
        "company_domain": company.get("domain"),
        "company_name_for_emails": _meta(company, "company_name_for_emails"),
        "company_address": company.get("address"),
        "company_city": company.get("city"),
        "company_state": company.get("state"),
        "company_country": company.get("country"),
        "company_phone": phone,
        "company_linkedin_url": _meta(company, "linkedin_url"),
        "employees": company.get("employees_count"),
        "industry": _joined(company.get("industries")),
        "keywords": _joined(company.get("keywords")),
        "technologies": _joined(company.get("technologies")),
        "annual_revenue": company.get("annual_revenue"),
        "total_funding": company.get("total_funding"),
        "latest_funding": _meta(company, "latest_funding"),
        "latest_funding_amount": _meta(company, "latest_funding_amount"),
        "last_raised_at": _meta(company, "last_raised_at"),
        "meta_data": contact.get("metadata"),
        "created_at": contact.get("created_at"),
        "updated_at": contact.get("updated_at"),
    }


FLAT_FIELDS = tuple(flat_contact({"uuid": ""}))


def simple_contact(contact: dict[str, Any]) -> dict[str, Any]:
    """The app's ContactSimpleItem (``view=simple``): location nested."""
    return {
        "uuid": contact["uuid"],
        "first_name": contact.get("first_name"),
        "last_name": contact.get("last_name"),
        "title": contact.get("title"),
        "location": {
            "city": contact.get("city"),
            "state": contact.get("state"),
            "country": contact.get("country"),
        },
        "company_name": contact.get("company_name"),
        "company_domain": contact.get("company_domain"),
        "person_linkedin_url": contact.get("linkedin_url"),
    }


def company_contact(contact: dict[str, Any]) -> dict[str, Any]:
    """The app's ApiCompanyContact: our contact, nested company and metadata kept."""
    return {**contact, "person_linkedin_url": contact.get("linkedin_url")}


def company(body: dict[str, Any]) -> dict[str, Any]:
    """The app's ApiCompany: location and links inside ``metadata``."""
    metadata = dict(body.get("metadata") or {})
    metadata.update(
        {"city": body.get("city"), "state": body.get("state"), "country": body.get("country")}
    )
    return {
        **{key: value for key, value in body.items() if key != "metadata"},
        "text_search": None,
        "metadata": metadata,
    }


def user(body: dict[str, Any]) -> dict[str, Any]:
    """The app's user (session and profile): ``name``, role in its spelling."""
    profile = body.get("profile") or {}
    return {
        "id": body["id"],
        "email": body["email"],
        "name": profile.get("full_name"),
        "role": ROLE_NAMES.get(body.get("role"), body.get("role")),
        "is_active": body.get("is_active"),
        "avatar_url": profile.get("avatar_url"),
        "job_title": profile.get("job_title"),
        "bio": profile.get("bio"),
        "timezone": profile.get("timezone"),
        "company": profile.get("company"),
        "notifications": {"weeklyReports": False, "newLeadAlerts": False},
        "last_sign_in_at": body.get("last_sign_in_at"),
        "created_at": body.get("created_at"),
        "updated_at": body.get("created_at"),
    }


def tokens(body: dict[str, Any], message: str) -> dict[str, Any]:
    """Sign-in answers: our token pair, the user reshaped, a message."""
    return {**body, "user": user(body["user"]), "message": message}


def import_job(job: dict[str, Any]) -> dict[str, Any]:
    """The app's ImportJob: ``job_id``, ``success_count``, its status words."""
    return {
        "job_id": job["id"],
        "status": IMPORT_STATUS.get(job["status"], job["status"]),
        "file_name": job.get("file_name"),
        "total_rows": job.get("total_rows") or 0,
        "processed_rows": job.get("processed_rows") or 0,
        "success_count": (job.get("created_count") or 0) + (job.get("updated_count") or 0),
        "created_count": job.get("created_count") or 0,
        "updated_count": job.get("updated_count") or 0,
        "error_count": job.get("error_count") or 0,
        "upload_file_path": job.get("file_name"),
        "error_file_path": None,
        "message": job.get("error") or _import_message(job),
        "started_at": job.get("started_at"),
        "finished_at": job.get("finished_at"),
        "created_at": job.get("created_at"),
        "updated_at": job.get("finished_at") or job.get("started_at") or job.get("created_at"),
    }


def _import_message(job: dict[str, Any]) -> str:
    if job["status"] == "completed":
        return f"Imported {job.get('processed_rows') or 0} rows."
    return f"Import {IMPORT_STATUS.get(job['status'], job['status'])}."


def import_error(error: dict[str, Any]) -> dict[str, Any]:
    return {
        "row_number": error["row_number"],
        "error_message": error["message"],
        "row": error.get("row"),
    }


def export_item(export: dict[str, Any], user_id: str, download_url: str | None) -> dict[str, Any]:
    """The app's ExportListItem / create answer (contacts exports)."""
    count = export.get("row_count") or 0
    kind = export.get("kind") or "contacts"
    return {
        "export_id": export["id"],
        "job_id": export["id"],
        "user_id": user_id,
        "export_type": kind,
        "file_name": export.get("file_name"),
        "contact_count": count if kind == "contacts" else 0,
        "company_count": count if kind == "companies" else 0,
        "status": export["status"],
        "created_at": export.get("created_at"),
        "expires_at": None,
        "download_url": download_url,
        "error_message": export.get("error"),
    }
