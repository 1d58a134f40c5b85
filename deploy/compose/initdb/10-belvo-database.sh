#!/bin/sh
# Runs once, on the first start of an empty data volume (the postgres image's
# /docker-entrypoint-initdb.d): creates the product's own role and database,
# separate from Temporal's, so STORE_DSN never holds the superuser password.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v pw="$BELVO_DB_PASSWORD" <<'SQL'
CREATE ROLE belvo LOGIN PASSWORD :'pw';
CREATE DATABASE belvo OWNER belvo;
SQL
