# prod: tables protected from deletion, logs kept a year, more concurrency, alarms mailed.
environment                 = "prod"
region                      = "us-east-1"
zone_ids                    = ["use1-az1", "use1-az2"]
deletion_protection         = true
log_retention_days          = 365
alarm_email                 = "oncall@example.com"
cors_allow_origins          = ["*"]
api_throttle_rate           = 200
api_throttle_burst          = 400
api_reserved_concurrency    = 100
worker_max_concurrency      = 2
max_attempts                = 5
rate_limit_on_error         = "open"
log_level                   = "info"
secret_recovery_window_days = 30
sync_schedule               = "rate(1 day)"
