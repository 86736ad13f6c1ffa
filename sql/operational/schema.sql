-- Operational schema of the surgical-robot platform (RDS PostgreSQL).
-- The warehouse reads these tables; every row carries updated_at (UTC) for change tracking.
-- Idempotent: safe to run against a database that already has the schema.

CREATE TABLE IF NOT EXISTS facilities (
    facility_id      VARCHAR(50)  PRIMARY KEY,
    facility_name    VARCHAR(200) NOT NULL,
    city             VARCHAR(100),
    state            VARCHAR(50),
    country          VARCHAR(50)  NOT NULL DEFAULT 'USA',
    -- IANA zone of the hospital's own clock (e.g. 'America/New_York'): local hours, weekdays and holidays
    time_zone        VARCHAR(64)  NOT NULL,
    facility_type    VARCHAR(50),
    bed_count        INTEGER      CHECK (bed_count IS NULL OR bed_count >= 0),
    created_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS surgeons (
    surgeon_id          VARCHAR(50)  PRIMARY KEY,
    surgeon_name        VARCHAR(200) NOT NULL,
    specialization      VARCHAR(100),
    years_experience    INTEGER      CHECK (years_experience IS NULL OR years_experience >= 0),
    certification_level VARCHAR(50),
    facility_id         VARCHAR(50)  REFERENCES facilities (facility_id),
    created_at          TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS surgical_robots (
    robot_id               VARCHAR(50)   PRIMARY KEY,
    robot_serial_number    VARCHAR(100)  NOT NULL UNIQUE,
    robot_model            VARCHAR(100)  NOT NULL,
    manufacturer           VARCHAR(100),
    facility_id            VARCHAR(50)   REFERENCES facilities (facility_id),
    install_date           DATE,
    software_version       VARCHAR(50),
    hardware_revision      VARCHAR(50),
    status                 VARCHAR(50)   NOT NULL DEFAULT 'active'
                           CHECK (status IN ('active', 'maintenance', 'retired')),
    last_maintenance_date  DATE,
    total_procedures_count INTEGER       NOT NULL DEFAULT 0,
    total_operating_hours  NUMERIC(10,2) NOT NULL DEFAULT 0,
    created_at             TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ   NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS surgical_procedures (
    procedure_id        VARCHAR(100) PRIMARY KEY,
    robot_id            VARCHAR(50)  NOT NULL REFERENCES surgical_robots (robot_id),
    surgeon_id          VARCHAR(50)  NOT NULL REFERENCES surgeons (surgeon_id),
    facility_id         VARCHAR(50)  NOT NULL REFERENCES facilities (facility_id),
    procedure_type      VARCHAR(100) NOT NULL,
    procedure_category  VARCHAR(50)  NOT NULL,
    patient_id          VARCHAR(100),
    patient_age         SMALLINT     CHECK (patient_age IS NULL OR patient_age BETWEEN 0 AND 120),
    patient_gender      VARCHAR(10),
    start_time          TIMESTAMPTZ  NOT NULL,
    end_time            TIMESTAMPTZ,
    duration_minutes    INTEGER      CHECK (duration_minutes IS NULL OR duration_minutes > 0),
    complexity_score    NUMERIC(3,1) CHECK (complexity_score IS NULL OR complexity_score BETWEEN 1 AND 10),
    status              VARCHAR(50)  NOT NULL DEFAULT 'completed'
                        CHECK (status IN ('scheduled', 'in_progress', 'completed', 'cancelled', 'aborted')),
    created_at          TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CHECK (end_time IS NULL OR end_time >= start_time)
);
CREATE INDEX IF NOT EXISTS surgical_procedures_start_time_idx ON surgical_procedures (start_time);

CREATE TABLE IF NOT EXISTS procedure_outcomes (
    outcome_id                 VARCHAR(100) PRIMARY KEY,
    procedure_id               VARCHAR(100) NOT NULL UNIQUE REFERENCES surgical_procedures (procedure_id),
    success_status             VARCHAR(50)  NOT NULL
                               CHECK (success_status IN ('Successful', 'Partially Successful', 'Unsuccessful')),
    blood_loss_ml              INTEGER      CHECK (blood_loss_ml IS NULL OR blood_loss_ml >= 0),
    complication_level         VARCHAR(50)  CHECK (complication_level IN ('None', 'Minor', 'Moderate', 'Severe')),
    hospital_stay_days         INTEGER      CHECK (hospital_stay_days IS NULL OR hospital_stay_days >= 0),
    patient_satisfaction_score NUMERIC(3,1) CHECK (patient_satisfaction_score IS NULL
                                                   OR patient_satisfaction_score BETWEEN 1 AND 10),
    readmission_30day          BOOLEAN,
    created_at                 TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at                 TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS robot_maintenance_logs (
    maintenance_id         VARCHAR(100)  PRIMARY KEY,
    robot_id               VARCHAR(50)   NOT NULL REFERENCES surgical_robots (robot_id),
    maintenance_date       DATE          NOT NULL,
    maintenance_type       VARCHAR(50)   NOT NULL
                           CHECK (maintenance_type IN ('preventive', 'corrective', 'software_upgrade', 'calibration',
                                                       'inspection')),
    description            TEXT,
    technician_name        VARCHAR(200),
    downtime_hours         NUMERIC(6,2)  CHECK (downtime_hours IS NULL OR downtime_hours >= 0),
    cost_usd               NUMERIC(10,2) CHECK (cost_usd IS NULL OR cost_usd >= 0),
    software_version_after VARCHAR(50),
    created_at             TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ   NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS robot_maintenance_logs_robot_idx ON robot_maintenance_logs (robot_id, maintenance_date);
