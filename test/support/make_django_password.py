#!/usr/bin/python3
"""Prints what Django's own make_password stores for a password: make_django_password.py HASHER
PASSWORD, HASHER one of pbkdf2_sha256, pbkdf2_sha1, argon2, bcrypt_sha256, or "unusable" (what
Django stores for set_unusable_password). Debian's python3-django, -argon2 and -bcrypt."""
import sys

from django.conf import settings

settings.configure(PASSWORD_HASHERS=[
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
])

from django.contrib.auth.hashers import make_password  # noqa: E402 (needs the settings)

hasher, password = sys.argv[1], sys.argv[2]
print(make_password(None) if hasher == "unusable" else make_password(password, hasher=hasher))
