#pragma once

// The select lists behind storage/rows.h, in the order each row type's Read takes them. Only
// storage/queries/*.cc include this. Timestamps travel as integer microseconds since the Unix
// epoch: exact, and cheap to parse.

#define USERSVC_USER_COLUMNS                                                    \
  "id, email, username, first_name, last_name, phone_number, role, is_active, " \
  "is_email_verified, (extract(epoch FROM created_at) * 1000000)::int8, "       \
  "(extract(epoch FROM updated_at) * 1000000)::int8, "                          \
  "(extract(epoch FROM deactivated_at) * 1000000)::int8, deactivation_reason, version"

#define USERSVC_ADDRESS_COLUMNS                                                              \
  "a.id, a.user_id, a.type, a.label, a.recipient_name, a.line1, a.line2, a.city, a.region, " \
  "a.postal_code, a.country_code, a.phone_number, a.is_default, "                            \
  "(extract(epoch FROM a.created_at) * 1000000)::int8, "                                     \
  "(extract(epoch FROM a.updated_at) * 1000000)::int8"

#define USERSVC_PREFERENCES_COLUMNS                                                  \
  "p.language, p.currency, p.timezone, p.email_notifications, p.sms_notifications, " \
  "p.marketing_emails, p.theme, (extract(epoch FROM p.updated_at) * 1000000)::int8"
