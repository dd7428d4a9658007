-- The Prefect server's own database, beside the `captionacc` database (videos table).
CREATE DATABASE prefect OWNER captionacc;
