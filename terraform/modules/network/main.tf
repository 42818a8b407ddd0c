# Only the api function lives in the VPC: it needs Redis, which has no public endpoint. The worker needs the
# internet (the upstream) and no Redis, so it stays outside, and the VPC needs no NAT gateway
# (about $33 a month per AZ). What the api reaches from inside goes through endpoints: DynamoDB by a free
# gateway endpoint, SQS and Secrets Manager by interface endpoints (billed per AZ-hour).

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  arn     = { for svc in ["dynamodb", "sqs", "secretsmanager"] : svc => "arn:${data.aws_partition.current.partition}:${svc}:${data.aws_region.current.region}:${local.account}" }
  # Through each endpoint, this account's principals reach this environment's resources, and nothing
  # else: what the api function calls (its role narrows further).
  endpoint_access = {
    dynamodb       = { actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"], resources = ["${local.arn.dynamodb}:table/${var.name}-*"] }
    sqs            = { actions = ["sqs:SendMessage", "sqs:GetQueueAttributes"], resources = ["${local.arn.sqs}:${var.name}-*"] }
    secretsmanager = { actions = ["secretsmanager:GetSecretValue"], resources = ["${local.arn.secretsmanager}:secret:${var.name}/*"] }
  }
}

data "aws_iam_policy_document" "endpoint" {
  for_each = local.endpoint_access
  statement {
    actions   = each.value.actions
    resources = each.value.resources
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalAccount"
      values   = [local.account]
    }
  }
}

resource "aws_vpc" "this" {
  # checkov:skip=CKV2_AWS_12:The default security group is attached to nothing (every interface here has its own group), and managing it would need the deploy role to edit an untagged group no tag can scope
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true # interface endpoints answer the services' public names with private IPs
  tags                 = { Name = var.name }
}


# Zones by id (the same physical zone in every account), listed per environment: the set never grows by
# itself when AWS opens a zone.
resource "aws_subnet" "private" {
  count                = length(var.zone_ids)
  vpc_id               = aws_vpc.this.id
  availability_zone_id = var.zone_ids[count.index]
  cidr_block           = cidrsubnet(var.cidr_block, 4, count.index)
  tags                 = { Name = "${var.name}-private-${var.zone_ids[count.index]}" }
}

# No route to the internet: the subnets are private.
resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-private" }
}

resource "aws_route_table_association" "private" {
  count          = length(var.zone_ids)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_vpc_endpoint" "dynamodb" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  policy            = data.aws_iam_policy_document.endpoint["dynamodb"].json
}

resource "aws_security_group" "api" {
  # checkov:skip=CKV2_AWS_5:Attached to the api function by terraform/service (module.api vpc), across modules
  name        = "${var.name}-api-function"
  description = "The api function: out to the endpoints and Redis only"
  vpc_id      = aws_vpc.this.id
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name}-endpoints"
  description = "Interface endpoints: HTTPS from the api function only"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_api" {
  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the api function"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.api.id
}

resource "aws_vpc_security_group_egress_rule" "api_to_endpoints" {
  security_group_id            = aws_security_group.api.id
  description                  = "HTTPS to the SQS and Secrets Manager endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_egress_rule" "api_to_dynamodb" {
  security_group_id = aws_security_group.api.id
  description       = "HTTPS to DynamoDB through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.dynamodb.prefix_list_id
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = toset(var.interface_endpoints)
  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  policy              = data.aws_iam_policy_document.endpoint[each.key].json
}

# Rejected connections only: enough to debug a security group, at a fraction of the cost of all traffic.
resource "aws_flow_log" "rejected" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = "REJECT"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow.arn
  iam_role_arn         = aws_iam_role.flow.arn
}

resource "aws_cloudwatch_log_group" "flow" {
  # checkov:skip=CKV_AWS_338:Retention is set per environment (prod 365 days, dev 14): a year of dev logs is cost without use
  name                        = "/vpc/${var.name}/rejected"
  retention_in_days           = var.log_retention_days
  kms_key_id                  = var.kms_key_arn
  deletion_protection_enabled = var.log_deletion_protection
}

data "aws_iam_policy_document" "flow_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.region}:${local.account}:vpc-flow-log/*"]
    }
  }
}

resource "aws_iam_role" "flow" {
  name                 = "${var.name}-flow-logs"
  assume_role_policy   = data.aws_iam_policy_document.flow_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "flow" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow.arn}:*"]
  }
}

resource "aws_iam_role_policy" "flow" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow.id
  policy = data.aws_iam_policy_document.flow.json
}
