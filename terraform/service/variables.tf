variable "environment" {
  description = "dev or prod: names every resource (countries-<environment>-...)."
  type        = string
  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "us-east-1"
}

variable "lambda_dir" {
  description = "Directory holding <bin>/bootstrap.zip from `make build` (target/lambda)."
  type        = string
}

variable "lambda_architecture" {
  description = "Architecture the zips were built for (target/lambda/ARCH)."
  type        = string
  default     = "arm64"
}

variable "zone_ids" {
  description = "Availability zone ids (e.g. use1-az1) for the api function, the endpoints and the cache: at least 2."
  type        = list(string)
}

variable "deletion_protection" {
  description = "Protect the tables and the log groups from deletion."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of every log group of the environment."
  type        = number
  default     = 30
}

variable "access_log_retention_days" {
  description = "Retention of the HTTP API's access logs, which hold client IP addresses and user agents (personal data): long enough to investigate abuse, no longer. Capped by log_retention_days."
  type        = number
  default     = 30
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90], var.access_log_retention_days)
    error_message = "A CloudWatch Logs retention of 90 days or less: 1, 3, 5, 7, 14, 30, 60 or 90."
  }
}

variable "alarm_email" {
  description = "Where alarms are mailed; empty for none."
  type        = string
  default     = ""
}

variable "cors_allow_origins" {
  description = "Origins browsers may call the API from."
  type        = list(string)
  default     = ["*"]
}

variable "api_throttle_rate" {
  description = "Stage-wide steady requests per second."
  type        = number
  default     = 100
}

variable "api_throttle_burst" {
  description = "Stage-wide burst."
  type        = number
  default     = 200
}

variable "api_memory_mb" {
  description = "Memory of the api function."
  type        = number
  default     = 256
}

variable "api_reserved_concurrency" {
  description = "Concurrency reserved for (and capping) the api function."
  type        = number
  default     = 50
}

variable "worker_memory_mb" {
  description = "Memory of the worker function."
  type        = number
  default     = 256
}

variable "worker_batch_size" {
  description = "Jobs per worker invocation."
  type        = number
  default     = 10
}

variable "worker_max_concurrency" {
  description = "Concurrent worker batches: the SQS event source mapping's maximum concurrency (2 to 1000). The worker's reserved concurrency is one more, for the schedules."
  type        = number
  default     = 2
  validation {
    condition     = var.worker_max_concurrency >= 2 && var.worker_max_concurrency <= 1000 && floor(var.worker_max_concurrency) == var.worker_max_concurrency
    error_message = "An SQS event source mapping's maximum concurrency is a whole number from 2 to 1000."
  }
}

variable "worker_record_concurrency" {
  description = "WORKER_CONCURRENCY: jobs processed at once inside one invocation."
  type        = number
  default     = 4
}

variable "max_attempts" {
  description = "MAX_ATTEMPTS and the queue's maxReceiveCount: deliveries of a job before the DLQ."
  type        = number
  default     = 5
}

variable "operation_retention" {
  description = "OPERATION_RETENTION: how long fetch operations are kept (DynamoDB TTL)."
  type        = string
  default     = "30d"
}

variable "upstream" {
  description = "COUNTRIES_UPSTREAM: v5 (the live keyed API), v3.1 (a self-hosted server) or bundled."
  type        = string
  default     = "v5"
}

variable "upstream_url" {
  description = "REST_COUNTRIES_URL: the upstream's base URL."
  type        = string
  default     = "https://api.restcountries.com/countries/v5"
}

variable "upstream_connect_timeout" {
  description = "UPSTREAM_CONNECT_TIMEOUT."
  type        = string
  default     = "3s"
}

variable "upstream_timeout_seconds" {
  description = "UPSTREAM_TIMEOUT in seconds: whole upstream request. The worker's timeout is derived from it, the batch size and the record concurrency (locals in main.tf)."
  type        = number
  default     = 10
}

variable "upstream_max_bytes" {
  description = "UPSTREAM_MAX_BYTES: largest upstream body accepted."
  type        = number
  default     = 2097152
}

variable "fresh_for" {
  description = "FRESH_FOR: a stored country younger than this is not fetched again."
  type        = string
  default     = "24h"
}

variable "stuck_after" {
  description = "STUCK_AFTER: an unfinished operation older than this no longer blocks a new fetch."
  type        = string
  default     = "15m"
}

variable "retry_base_delay" {
  description = "RETRY_BASE_DELAY: first backoff of a retryable upstream failure."
  type        = string
  default     = "2s"
}

variable "retry_max_delay" {
  description = "RETRY_MAX_DELAY: longest backoff."
  type        = string
  default     = "5m"
}

variable "upstream_burst" {
  description = "UPSTREAM_BURST: at most this many upstream calls by all workers in any such window (v5 allows about 20 per 10 s)."
  type        = string
  default     = "20/10s"
}

variable "upstream_monthly_quota" {
  description = "UPSTREAM_MONTHLY_QUOTA: upstream calls per calendar month for all workers (the v5 plan's quota; free: 500)."
  type        = number
  default     = 500
}

variable "redis_connect_timeout" {
  description = "REDIS_CONNECT_TIMEOUT."
  type        = string
  default     = "500ms"
}

variable "redis_command_timeout" {
  description = "REDIS_COMMAND_TIMEOUT: a slow Redis costs a request at most this."
  type        = string
  default     = "100ms"
}

variable "rate_limit_fetch" {
  description = "RATE_LIMIT_FETCH: fetches per client, N/window."
  type        = string
  default     = "10/60s"
}

variable "rate_limit_read" {
  description = "RATE_LIMIT_READ: reads per client, N/window."
  type        = string
  default     = "300/60s"
}

variable "rate_limit_sync" {
  description = "RATE_LIMIT_SYNC: POST /sync per client, N/window (each sync can cost upstream quota)."
  type        = string
  default     = "3/1h"
}

variable "catalogue_refresh" {
  description = "CATALOGUE_REFRESH: how long an api instance answers from its catalogue snapshot before it checks the catalogue's revision: the bound on how stale /countries, /v3.1 and /country can be."
  type        = string
  default     = "10s"
}

variable "sync_schedule" {
  description = "When the worker syncs the whole catalogue (an EventBridge Scheduler expression); each sync is 3 upstream calls on v5."
  type        = string
  default     = "rate(1 day)"
}

variable "rate_limit_on_error" {
  description = "RATE_LIMIT_ON_ERROR: open (serve) or closed (refuse) when Redis is unreachable."
  type        = string
  default     = "open"
}

variable "log_level" {
  description = "RUST_LOG: the functions' log filter."
  type        = string
  default     = "info"
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored: 0 in dev (destroy-infra then deploy reuses the names), 7 to 30 in prod."
  type        = number
  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "0, or 7 to 30 days."
  }
}

variable "sweep_every_minutes" {
  description = "How often the worker sweeps for operations nobody will finish (their jobs are sent again), in whole minutes."
  type        = number
  default     = 5
  validation {
    condition     = var.sweep_every_minutes >= 1 && floor(var.sweep_every_minutes) == var.sweep_every_minutes
    error_message = "A whole number of minutes, 1 or more (a Scheduler rate expression)."
  }
}

variable "aws_connect_timeout" {
  description = "AWS_CONNECT_TIMEOUT: the longest a connection to DynamoDB, SQS or Secrets Manager may take."
  type        = string
  default     = "1s"
}

variable "aws_call_timeout" {
  description = "AWS_CALL_TIMEOUT: the longest one DynamoDB, SQS or Secrets Manager call may take, retries included."
  type        = string
  default     = "2s"
}
