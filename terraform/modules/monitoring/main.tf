# Alarms that page (through one SNS topic) when users see errors or slowness, when jobs die or wait, and
# when the rate limiter cannot reach Redis; and one dashboard of the service.

data "aws_region" "current" {}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  actions   = [aws_sns_topic.alarms.arn]
  functions = { api = var.api_function_name, worker = var.worker_function_name }
  api_dims  = { ApiId = var.api_id, Stage = var.api_stage }
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name}-api-5xx"
  alarm_description   = "The API answered 5xx (our fault) to more than ${var.api_5xx_threshold} requests in 5 minutes"
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = local.api_dims
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.api_5xx_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "api_latency" {
  alarm_name          = "${var.name}-api-latency-p99"
  alarm_description   = "API p99 latency above ${var.api_p99_latency_ms} ms for 15 minutes"
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = local.api_dims
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.api_p99_latency_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each            = local.functions
  alarm_name          = "${var.name}-${each.key}-errors"
  alarm_description   = "The ${each.key} function failed invocations (crash, timeout, init error)"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each            = local.functions
  alarm_name          = "${var.name}-${each.key}-throttles"
  alarm_description   = "The ${each.key} function hit its reserved concurrency"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  alarm_name          = "${var.name}-dlq-not-empty"
  alarm_description   = "A fetch job exhausted its attempts and sits in the dead-letter queue: investigate, then redrive"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.dlq_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "queue_age" {
  alarm_name          = "${var.name}-fetch-queue-age"
  alarm_description   = "The oldest fetch job has waited over ${var.queue_age_threshold_seconds} s: the worker is stuck, throttled or failing"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = var.queue_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.queue_age_threshold_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

# The service's own metrics, emitted as EMF log lines (crates/core/src/metrics.rs) by the function named in
# the Function dimension; each alarm fires on the first occurrence in its period.
locals {
  service_metric_alarms = {
    # The api could not reach Redis for a rate-limit decision; RATE_LIMIT_ON_ERROR was applied instead.
    limiter_unavailable = {
      name        = "rate-limiter-redis-unreachable"
      metric      = "RateLimiterUnavailable"
      function    = var.api_function_name
      period      = 300
      description = "The api function could not reach Redis for rate limiting (policy RATE_LIMIT_ON_ERROR applied)"
    }
    # The upstream answered 404 without its own error body: REST_COUNTRIES_URL is probably wrong, and
    # every fetch fails until a person fixes it.
    upstream_misconfigured = {
      name        = "upstream-misconfigured"
      metric      = "UpstreamMisconfigured"
      function    = var.worker_function_name
      period      = 300
      description = "The upstream answered 404 without its error envelope: check the upstream_url setting"
    }
    # The upstream refused the key (401, 403): a bad key, a frozen account or a premium field.
    upstream_rejected = {
      name        = "upstream-rejected-key"
      metric      = "UpstreamRejected"
      function    = var.worker_function_name
      period      = 300
      description = "The upstream refused the API key (401 or 403): check the key's secret and the account's plan"
    }
    # A sync ended failed or partial (the scheduled one also fails its invocation): the catalogue did not
    # fully refresh; what was stored is kept and the next trigger tries again.
    sync_failed = {
      name        = "sync-failed"
      metric      = "SyncFailed"
      function    = var.worker_function_name
      period      = 3600
      description = "A catalogue sync failed or brought only part of the catalogue: see the worker's log and GET /sync"
    }
    # A fetched document could not be written into the catalogue item: catalogue reads miss it until the
    # next sync.
    catalogue_publish_failed = {
      name        = "catalogue-publish-failed"
      metric      = "CataloguePublishFailed"
      function    = var.worker_function_name
      period      = 3600
      description = "A fetched document was stored but not written into the catalogue: catalogue reads miss it until the next sync (POST /sync?force=true with the operator key)"
    }
    # The api read stored data it cannot decode (an operation, a sync, the catalogue) and answered 500:
    # waiting will not mend it.
    stored_data_corrupt = {
      name        = "stored-data-corrupt"
      metric      = "StoredDataCorrupt"
      function    = var.api_function_name
      period      = 300
      description = "The api read stored data it cannot decode and answered 500: its error log names the item"
    }
    # Each upstream call once 80 % of the month's quota is spent: past the quota, jobs wait for next month.
    upstream_quota_high = {
      name        = "upstream-quota-80pct"
      metric      = "UpstreamQuotaHigh"
      function    = var.worker_function_name
      period      = 3600
      description = "Over 80 % of the month's upstream quota is spent: raise upstream_monthly_quota with the plan, or expect fetches to wait for the next month"
    }
  }
}

# These four were separate resources; moved, so that an existing stack keeps its alarms.
moved {
  from = aws_cloudwatch_metric_alarm.limiter_unavailable
  to   = aws_cloudwatch_metric_alarm.service_metric["limiter_unavailable"]
}
moved {
  from = aws_cloudwatch_metric_alarm.upstream_misconfigured
  to   = aws_cloudwatch_metric_alarm.service_metric["upstream_misconfigured"]
}
moved {
  from = aws_cloudwatch_metric_alarm.upstream_rejected
  to   = aws_cloudwatch_metric_alarm.service_metric["upstream_rejected"]
}
moved {
  from = aws_cloudwatch_metric_alarm.upstream_quota_high
  to   = aws_cloudwatch_metric_alarm.service_metric["upstream_quota_high"]
}

resource "aws_cloudwatch_metric_alarm" "service_metric" {
  for_each            = local.service_metric_alarms
  alarm_name          = "${var.name}-${each.value.name}"
  alarm_description   = each.value.description
  namespace           = var.metric_namespace
  metric_name         = each.value.metric
  dimensions          = { Function = each.value.function }
  statistic           = "Sum"
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "API requests and errors"
          region = data.aws_region.current.region
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/ApiGateway", "Count", "ApiId", var.api_id, "Stage", var.api_stage],
            [".", "4xx", ".", ".", ".", "."],
            [".", "5xx", ".", ".", ".", "."],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "API latency (ms)"
          region = data.aws_region.current.region
          period = 60
          metrics = [
            ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, "Stage", var.api_stage, { stat = "p50" }],
            ["...", { stat = "p99" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title  = "Functions: invocations, errors, throttles"
          region = data.aws_region.current.region
          stat   = "Sum"
          period = 60
          metrics = flatten([for f in values(local.functions) : [
            ["AWS/Lambda", "Invocations", "FunctionName", f],
            [".", "Errors", ".", "."],
            [".", "Throttles", ".", "."],
          ]])
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title   = "Functions: duration p99 (ms)"
          region  = data.aws_region.current.region
          stat    = "p99"
          period  = 60
          metrics = [for f in values(local.functions) : ["AWS/Lambda", "Duration", "FunctionName", f]]
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title  = "Fetch queue: depth, oldest job (s), dead letters"
          region = data.aws_region.current.region
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.queue_name],
            [".", "ApproximateAgeOfOldestMessage", ".", "."],
            [".", "ApproximateNumberOfMessagesVisible", ".", var.dlq_name],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 12, width = 12, height = 6
        properties = {
          title  = "Rate limiter: Redis unreachable"
          region = data.aws_region.current.region
          stat   = "Sum"
          period = 60
          metrics = [
            [var.metric_namespace, "RateLimiterUnavailable", "Function", var.api_function_name],
          ]
        }
      },
    ]
  })
}
