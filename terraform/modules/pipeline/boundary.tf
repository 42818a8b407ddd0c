# The permissions boundary of every role the deploy creates (the two functions, the VPC flow logs): the
# most any of them may ever do, whatever policy the service stack gives it. It lives in this stack, which
# a person applies, so the deploy role can neither change it nor create a role without it.

data "aws_iam_policy_document" "function_boundary" {
  # checkov:skip=CKV_AWS_356:"*" only for X-Ray and the VPC network-interface actions Lambda needs, which have no resource-level permissions
  # checkov:skip=CKV_AWS_111:The ENI actions are what Lambda does for a VPC function; AWS documents them with "*"
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${local.arn.logs}:log-group:/aws/lambda/${local.prefix}-*", "${local.arn.logs}:log-group:/vpc/${local.prefix}/*"]
  }

  statement {
    sid       = "Tables"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"]
    resources = ["${local.arn.dynamodb}:table/${local.prefix}-*"]
  }

  statement {
    sid       = "SweepScansOperations"
    actions   = ["dynamodb:Scan"] # the worker's sweep reads the in-flight markers
    resources = ["${local.arn.dynamodb}:table/${local.prefix}-operations"]
  }

  statement {
    sid       = "Queues"
    actions   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = ["${local.arn.sqs}:${local.prefix}-*"]
  }

  statement {
    sid       = "InvokeTheWorker"
    actions   = ["lambda:InvokeFunction"] # the sweep schedule's role
    resources = ["${local.arn.lambda}:function:${local.prefix}-*"]
  }

  statement {
    sid       = "Secrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["${local.arn.secretsmanager}:secret:${local.prefix}/*"]
  }

  statement {
    sid       = "ServiceKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.service.arn] # service_key.tf: this environment's key, and no other
  }

  statement {
    sid = "TracesAndVpcInterfaces"
    actions = [
      "xray:PutTraceSegments", "xray:PutTelemetryRecords", "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
    ]
    # X-Ray and the network-interface actions of a VPC function have no resource-level permissions.
    resources = ["*"]
  }
}

resource "aws_iam_policy" "function_boundary" {
  name        = "${local.prefix}-function-boundary"
  description = "Permissions boundary of every role terraform/service creates in ${var.environment}"
  policy      = data.aws_iam_policy_document.function_boundary.json
}
