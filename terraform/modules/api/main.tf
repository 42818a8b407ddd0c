# The public HTTP API (payload v2) in front of the api function. Routes are listed (no catch-all but
# /v3.1/'s) so a path the service does not serve never costs an invocation; the function's router answers
# the rest. CORS preflights are answered here, as the router answers them in `make run`.

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "Country data: fetch, country, status, countries, sync, and the v3.1 API"

  cors_configuration {
    allow_origins  = var.cors_allow_origins
    allow_methods  = ["GET", "POST", "OPTIONS"]
    allow_headers  = ["authorization", "content-type", "if-none-match"]
    expose_headers = ["etag", "last-modified", "location", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-country-source", "x-request-id"]
    max_age        = 3600
  }
}

resource "aws_apigatewayv2_integration" "function" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.function_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = var.integration_timeout_ms
}

resource "aws_apigatewayv2_route" "this" {
  for_each  = toset(var.routes)
  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.function.id}"
  # checkov:skip=CKV_AWS_309:A public read API by design; abuse is bounded by per-client rate limits and stage throttling
}

resource "aws_cloudwatch_log_group" "access" {
  # checkov:skip=CKV_AWS_338:The access logs hold client IPs and user agents (personal data): kept 30 days by default and 90 at most (access_log_retention_days in terraform/service), long enough to investigate abuse
  name                        = "/aws/apigateway/${var.name}"
  retention_in_days           = var.log_retention_days
  kms_key_id                  = var.kms_key_arn
  deletion_protection_enabled = var.log_deletion_protection
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit   = var.throttle_burst
    throttling_rate_limit    = var.throttle_rate
    detailed_metrics_enabled = true
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      ip             = "$context.identity.sourceIp"
      requestTime    = "$context.requestTime"
      httpMethod     = "$context.httpMethod"
      routeKey       = "$context.routeKey"
      path           = "$context.path"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latencyMs      = "$context.responseLatency"
      integrationMs  = "$context.integrationLatency"
      integrationErr = "$context.integrationErrorMessage"
      userAgent      = "$context.identity.userAgent"
    })
  }
}

data "aws_partition" "current" {}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
