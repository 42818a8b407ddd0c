# The service in one environment: tables, queue, cache, network, the two functions, the HTTP API, the
# upstream key's and the operator key's secrets, the schedules and the alarms. The functions' environment variables are the ones the binaries
# read; tests/infra_contract.rs holds this file to the code.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name = "countries-${var.environment}"
  # Made by terraform/pipeline (modules/pipeline/boundary.tf): every role this stack creates carries it.
  permissions_boundary_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/${local.name}-function-boundary"

  # Read by both functions (the AWS adapters' settings, the upstream kind and budget, the log level).
  common_env = {
    FRESH_FOR              = var.fresh_for
    STUCK_AFTER            = var.stuck_after
    COUNTRIES_TABLE        = module.data.countries_table_name
    OPERATIONS_TABLE       = module.data.operations_table_name
    OPERATION_RETENTION    = var.operation_retention
    AWS_CONNECT_TIMEOUT    = var.aws_connect_timeout
    AWS_CALL_TIMEOUT       = var.aws_call_timeout
    FETCH_QUEUE_URL        = module.queue.queue_url
    COUNTRIES_UPSTREAM     = var.upstream
    UPSTREAM_BURST         = var.upstream_burst
    UPSTREAM_MONTHLY_QUOTA = tostring(var.upstream_monthly_quota)
    RUST_LOG               = var.log_level
  }

  # The worker's timeout fits a whole batch on a slow upstream: ceil(batch / concurrency) waves of the
  # longest job, which is the upstream's timeout plus the store's share (JOB_STORE_ALLOWANCE in
  # crates/worker), plus a margin for the batch's answer. Near the deadline the worker starts no more
  # jobs and reports the rest, so even a timeout set too low loses no answer.
  # A sync (a scheduled one, or a sync job in a batch) makes at most three list calls on v5 (four field
  # calls on v3.1), then writes what changed: SYNC_ALLOWANCE (crates/core, usecases) covers the writes
  # and the budget's pauses. The timeout fits whichever is longer.
  job_store_seconds      = 5
  sync_allowance_seconds = 30
  batch_seconds          = ceil(var.worker_batch_size / var.worker_record_concurrency) * (var.upstream_timeout_seconds + local.job_store_seconds) + 5
  sync_seconds           = 4 * var.upstream_timeout_seconds + local.sync_allowance_seconds
  worker_timeout_seconds = max(local.batch_seconds, local.sync_seconds)

  # Reserved concurrency caps every invoker, and the SQS mapping does not count it: with as many
  # instances as batches, a schedule's invocation would be throttled while the batches run, or take
  # an instance a batch then cannot get. One instance more than the mapping's batches keeps room for
  # a sweep or a sync.
  worker_batches              = var.worker_max_concurrency
  worker_reserved_concurrency = local.worker_batches + 1
}

# Made by terraform/pipeline (modules/pipeline/service_key.tf), which a person applies before the first
# deploy: the deploy role may use the key but not manage it.
data "aws_kms_alias" "service" {
  name = "alias/${local.name}"
}

module "data" {
  source              = "../modules/data"
  name                = local.name
  kms_key_arn         = data.aws_kms_alias.service.target_key_arn
  deletion_protection = var.deletion_protection
}

module "queue" {
  source                 = "../modules/queue"
  name                   = local.name
  kms_key_arn            = data.aws_kms_alias.service.target_key_arn
  max_receive_count      = var.max_attempts
  worker_timeout_seconds = local.worker_timeout_seconds
}

module "network" {
  source                  = "../modules/network"
  log_deletion_protection = var.deletion_protection # with the tables: prod keeps its records
  name                    = local.name
  zone_ids                = var.zone_ids
  kms_key_arn             = data.aws_kms_alias.service.target_key_arn
  log_retention_days      = var.log_retention_days

  permissions_boundary_arn = local.permissions_boundary_arn
}

module "cache" {
  source                   = "../modules/cache"
  name                     = local.name
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.private_subnet_ids
  client_security_group_id = module.network.api_security_group_id
  kms_key_arn              = data.aws_kms_alias.service.target_key_arn
  key_prefix               = "${local.name}:"
  recovery_window_days     = var.secret_recovery_window_days
}

module "secrets" {
  source               = "../modules/secrets"
  name                 = local.name
  kms_key_arn          = data.aws_kms_alias.service.target_key_arn
  recovery_window_days = var.secret_recovery_window_days
}

# What the api function's code calls: read and write both tables (the in-flight marker is written in a
# transaction with the operation), send jobs, read the Redis password, use the key for all of them.
data "aws_iam_policy_document" "api" {
  statement {
    sid = "Tables"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
    ]
    resources = [module.data.countries_table_arn, module.data.operations_table_arn]
  }
  statement {
    # An operation or sync the api ends itself (its job could not be queued, or it took over a stuck
    # one) releases its in-flight marker, which lives in the operations table only.
    sid       = "ReleaseMarkers"
    actions   = ["dynamodb:DeleteItem"]
    resources = [module.data.operations_table_arn]
  }
  statement {
    sid       = "SendJobs"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"] # the second for /health?deep=true
    resources = [module.queue.queue_arn]
  }
  statement {
    sid       = "Secrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [module.cache.auth_secret_arn, module.secrets.operator_key_secret_arn]
  }
  statement {
    sid       = "EnvironmentKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [data.aws_kms_alias.service.target_key_arn]
  }
}

module "api" {
  source                   = "../modules/function"
  log_deletion_protection  = var.deletion_protection # with the tables: prod keeps its records
  name                     = "${local.name}-api"
  description              = "Country data HTTP API (fetch, country, status, countries, sync, v3.1)"
  zip_path                 = "${var.lambda_dir}/api-lambda/bootstrap.zip"
  architecture             = var.lambda_architecture
  memory_mb                = var.api_memory_mb
  timeout_seconds          = 10
  reserved_concurrency     = var.api_reserved_concurrency
  kms_key_arn              = data.aws_kms_alias.service.target_key_arn
  log_retention_days       = var.log_retention_days
  policy_json              = data.aws_iam_policy_document.api.json
  permissions_boundary_arn = local.permissions_boundary_arn
  vpc = {
    subnet_ids         = module.network.private_subnet_ids
    security_group_ids = [module.network.api_security_group_id]
  }
  environment = merge(local.common_env, {
    REDIS_URL              = module.cache.redis_url
    REDIS_AUTH_SECRET_ID   = module.cache.auth_secret_arn
    REDIS_CONNECT_TIMEOUT  = var.redis_connect_timeout
    REDIS_COMMAND_TIMEOUT  = var.redis_command_timeout
    RATE_LIMIT_KEY_PREFIX  = "${local.name}:"
    RATE_LIMIT_FETCH       = var.rate_limit_fetch
    RATE_LIMIT_READ        = var.rate_limit_read
    RATE_LIMIT_SYNC        = var.rate_limit_sync
    RATE_LIMIT_ON_ERROR    = var.rate_limit_on_error
    CATALOGUE_REFRESH      = var.catalogue_refresh
    OPERATOR_KEY_SECRET_ID = module.secrets.operator_key_secret_arn
    PUBLIC_BASE_PATH       = "" # the $default stage adds no prefix
  })
}

# What the worker's code calls: both tables, the queue's visibility (backoff) besides what the event
# source mapping needs to receive and delete, and the upstream key.
data "aws_iam_policy_document" "worker" {
  statement {
    sid = "Tables"
    # No Query: reading an operation history or the syncs' list is the api's.
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
    ]
    resources = [module.data.countries_table_arn, module.data.operations_table_arn]
  }
  statement {
    # A finished operation or sync releases its in-flight marker, in the operations table only.
    sid       = "ReleaseMarkers"
    actions   = ["dynamodb:DeleteItem"]
    resources = [module.data.operations_table_arn]
  }
  statement {
    # The sweep scans the in-flight markers, which live only in the operations table; no other code
    # scans, so the countries table stays out of reach of a whole-table read.
    sid       = "SweepScansOperations"
    actions   = ["dynamodb:Scan"]
    resources = [module.data.operations_table_arn]
  }
  statement {
    sid = "ConsumeJobs"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
      "sqs:SendMessage", # a deferred job goes back as a new message; the sweep sends orphaned jobs
    ]
    resources = [module.queue.queue_arn]
  }
  statement {
    sid       = "UpstreamKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [module.secrets.upstream_key_secret_arn]
  }
  statement {
    sid       = "EnvironmentKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [data.aws_kms_alias.service.target_key_arn]
  }
}

module "worker" {
  source                   = "../modules/function"
  log_deletion_protection  = var.deletion_protection # with the tables: prod keeps its records
  name                     = "${local.name}-worker"
  description              = "Country data worker: fetch and sync jobs (SQS, schedules -> REST Countries -> DynamoDB)"
  zip_path                 = "${var.lambda_dir}/worker-lambda/bootstrap.zip"
  architecture             = var.lambda_architecture
  memory_mb                = var.worker_memory_mb
  timeout_seconds          = local.worker_timeout_seconds
  reserved_concurrency     = local.worker_reserved_concurrency
  kms_key_arn              = data.aws_kms_alias.service.target_key_arn
  log_retention_days       = var.log_retention_days
  policy_json              = data.aws_iam_policy_document.worker.json
  permissions_boundary_arn = local.permissions_boundary_arn
  # Outside the VPC on purpose: it needs the internet for the upstream and no Redis (network module).
  vpc = null
  environment = merge(local.common_env, {
    REST_COUNTRIES_URL               = var.upstream_url
    REST_COUNTRIES_API_KEY_SECRET_ID = module.secrets.upstream_key_secret_arn
    UPSTREAM_CONNECT_TIMEOUT         = var.upstream_connect_timeout
    UPSTREAM_TIMEOUT                 = "${var.upstream_timeout_seconds}s"
    UPSTREAM_MAX_BYTES               = tostring(var.upstream_max_bytes)
    WORKER_CONCURRENCY               = tostring(var.worker_record_concurrency)
    MAX_ATTEMPTS                     = tostring(var.max_attempts)
    RETRY_BASE_DELAY                 = var.retry_base_delay
    RETRY_MAX_DELAY                  = var.retry_max_delay
  })
}

resource "aws_lambda_event_source_mapping" "worker" {
  event_source_arn = module.queue.queue_arn
  function_name    = module.worker.function_arn
  batch_size       = var.worker_batch_size
  # Only the failed records of a batch are retried (the worker returns their ids).
  function_response_types = ["ReportBatchItemFailures"]
  scaling_config {
    # Caps concurrent batches: protects the upstream's small quota. The reserved concurrency is one
    # more (local.worker_reserved_concurrency), so neither the batches nor the schedules are throttled.
    maximum_concurrency = local.worker_batches
  }
}

# The schedules invoke the worker asynchronously, and Lambda retries a failed asynchronous invocation
# twice more by itself (the schedule's retry_policy covers only Scheduler's delivery of the event). A
# failed sync or sweep waits for its next trigger instead: each sync try costs upstream quota, and the
# next sweep is minutes away.
resource "aws_lambda_function_event_invoke_config" "worker" {
  function_name          = module.worker.function_name
  maximum_retry_attempts = 0
  # An event still unstarted after an hour (the function throttled all along) is dropped: a sweep that
  # late is superseded by the next, and a sync waits for its next trigger, as after a failure.
  maximum_event_age_in_seconds = 3600
}

# The worker's two schedules, under one role that may only invoke it:
# - the sweep (core::usecases::Sweeper): every few minutes the worker sends again the jobs of operations
#   nobody will finish (saved by a process that stopped before queueing the job, or taken by a worker
#   that died). A failed sweep fails the invocation, which the worker's errors alarm counts.
# - the sync (core::usecases::CatalogueSync): the whole catalogue, daily by default. A failed or partial
#   sync fails the invocation and counts SyncFailed (the sync_failed alarm).
data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    # Scheduler sends the ARN of the schedule's group as aws:SourceArn, not the schedule's: its
    # confused-deputy guidance says to name a schedule group, never a schedule or a name prefix. Both
    # schedules are in the default group.
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:scheduler:${var.region}:${data.aws_caller_identity.current.account_id}:schedule-group/default"]
    }
  }
}

resource "aws_iam_role" "sweep" {
  # Named for its first schedule; it now serves both (renaming would replace the role).
  name                 = "${local.name}-sweep-schedule"
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume.json
  permissions_boundary = local.permissions_boundary_arn
}

data "aws_iam_policy_document" "sweep" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [module.worker.function_arn]
  }
}

resource "aws_iam_role_policy" "sweep" {
  name   = "invoke-the-worker"
  role   = aws_iam_role.sweep.id
  policy = data.aws_iam_policy_document.sweep.json
}

resource "aws_scheduler_schedule" "sweep" {
  # checkov:skip=CKV_AWS_297:The schedule holds only the constant input {"sweep": {}}: no data a customer-managed key would protect
  name        = "${local.name}-sweep"
  description = "The worker sends again the jobs of operations nobody will finish"
  # Scheduler's rate expressions take the singular unit for 1: rate(1 minute), rate(5 minutes).
  schedule_expression = "rate(${var.sweep_every_minutes} ${var.sweep_every_minutes == 1 ? "minute" : "minutes"})"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = module.worker.function_arn
    role_arn = aws_iam_role.sweep.arn
    # countries_lambdas::worker::WorkerEvent::Sweep
    input = jsonencode({ sweep = {} })
  }
}

resource "aws_scheduler_schedule" "sync" {
  # checkov:skip=CKV_AWS_297:The schedule holds only the constant input {"sync": {}}: no data a customer-managed key would protect
  name                = "${local.name}-sync"
  description         = "The worker brings the whole catalogue from the upstream"
  schedule_expression = var.sync_schedule
  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 60
  }
  target {
    arn      = module.worker.function_arn
    role_arn = aws_iam_role.sweep.arn
    # countries_lambdas::worker::WorkerEvent::Sync
    input = jsonencode({ sync = {} })
    retry_policy {
      # A failed sync is retried at the next trigger, not at once: each try costs upstream quota.
      maximum_retry_attempts = 0
    }
  }
}

module "http_api" {
  source                  = "../modules/api"
  log_deletion_protection = var.deletion_protection # with the tables: prod keeps its records
  name                    = local.name
  function_name           = module.api.function_name
  function_invoke_arn     = module.api.invoke_arn
  cors_allow_origins      = var.cors_allow_origins
  throttle_rate           = var.api_throttle_rate
  throttle_burst          = var.api_throttle_burst
  kms_key_arn             = data.aws_kms_alias.service.target_key_arn
  # The access logs hold each client's IP address and user agent, personal data: kept for as long as
  # investigating abuse needs (access_log_retention_days), and never longer than the other logs.
  log_retention_days = min(var.log_retention_days, var.access_log_retention_days)
}

module "monitoring" {
  source               = "../modules/monitoring"
  name                 = local.name
  kms_key_arn          = data.aws_kms_alias.service.target_key_arn
  alarm_email          = var.alarm_email
  api_id               = module.http_api.api_id
  api_stage            = module.http_api.stage_name
  api_function_name    = module.api.function_name
  worker_function_name = module.worker.function_name
  queue_name           = module.queue.queue_name
  dlq_name             = module.queue.dlq_name
}
