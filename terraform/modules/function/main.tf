# One Rust Lambda function: the `bootstrap` zip from `make build` on the OS-only runtime, its own role with
# exactly the statements the caller passes, a log group it writes JSON to, X-Ray active tracing.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338:Retention is set per environment (prod 365 days, dev 14): a year of dev logs is cost without use
  name                        = "/aws/lambda/${var.name}"
  retention_in_days           = var.log_retention_days
  kms_key_id                  = var.kms_key_arn
  deletion_protection_enabled = var.log_deletion_protection
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    # Only on behalf of this account (Lambda assumes an execution role with no function ARN to match).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.name
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "this" {
  # The caller's statements: what this function's code calls.
  source_policy_documents = [var.policy_json]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid     = "SendTraces"
    actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    # X-Ray has no resource-level permissions for these actions: AWS requires "*".
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.vpc == null ? [] : [1]
    content {
      sid = "ManageOwnNetworkInterfaces"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      # Lambda creates the interfaces before their ids exist, and the EC2 Describe actions have no
      # resource-level permissions: AWS requires "*" (as in AWSLambdaVPCAccessExecutionRole).
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_116:The api is invoked synchronously (API Gateway); the worker by the SQS mapping, whose queue has its own DLQ, and asynchronously by its schedules, whose constant events Lambda does not retry (terraform/service event invoke config) and whose failures the errors alarm counts: a DLQ would hold nothing to redo
  # checkov:skip=CKV_AWS_272:The zip is built from the tested commit by the same pipeline run that deploys it; signing would add an S3 upload and a Signer job for no new assurance
  function_name    = var.name
  description      = var.description
  role             = aws_iam_role.this.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap" # unused by the OS-only runtime, which runs the zip's `bootstrap`
  architectures    = [var.architecture]
  filename         = var.zip_path
  source_code_hash = filebase64sha256(var.zip_path)
  memory_size      = var.memory_mb
  timeout          = var.timeout_seconds
  kms_key_arn      = var.kms_key_arn

  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  dynamic "vpc_config" {
    for_each = var.vpc == null ? [] : [var.vpc]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  # The role's policy must exist before the function starts, or its first cold start lacks permissions.
  depends_on = [aws_iam_role_policy.this]
}
