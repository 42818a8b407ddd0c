# dev: cheap and disposable. Tables can be deleted, logs kept two weeks, small concurrency.
environment                 = "dev"
region                      = "us-east-1"
zone_ids                    = ["use1-az1", "use1-az2"]
deletion_protection         = false
log_retention_days          = 14
alarm_email                 = ""
cors_allow_origins          = ["*"]
api_throttle_rate           = 20
api_throttle_burst          = 40
api_reserved_concurrency    = 10
worker_max_concurrency      = 2
max_attempts                = 5
rate_limit_on_error         = "open"
log_level                   = "debug"
secret_recovery_window_days = 0
sync_schedule               = "rate(7 days)" # a weekly catalogue is enough to develop against, and spends little quota
