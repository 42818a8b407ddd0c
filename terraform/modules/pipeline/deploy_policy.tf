# What `terraform apply` of terraform/service (and the smoke test) touches, and nothing else. Each statement
# is scoped to the environment: its name prefix (countries-<env>-...), its Environment tag (EC2, API
# Gateway), the service key's ARN (made in this stack, service_key.tf), or the service stack's state.
# deploy-actions.md lists, per resource type, the actions the provider calls; tests/infra_contract.rs
# holds these policies to it.
# Managed policies rather than inline ones, one per part of the stack: an inline policy may not pass
# 10,240 characters per role, a managed one 6,144 each (the contract test measures them), and a role may
# have ten attached.

locals {
  boundary_arn = aws_iam_policy.function_boundary.arn
}

data "aws_kms_alias" "state" {
  # Made by terraform/bootstrap (make bootstrap-state), which runs first.
  name = "alias/countries-tfstate-${var.environment}"
}

# --- State, identity, keys -----------------------------------------------------------------------------

data "aws_iam_policy_document" "deploy_state_and_keys" {
  # checkov:skip=CKV_AWS_356:"*" only for actions without resource types (sts:GetCallerIdentity, kms:ListAliases), each commented below
  statement {
    sid       = "WhoAmI"
    actions   = ["sts:GetCallerIdentity"]
    resources = ["*"] # GetCallerIdentity has no resource: AWS requires "*"
  }

  statement {
    sid       = "ServiceState"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}/service.tfstate", "arn:${local.partition}:s3:::${var.state_bucket}/service.tfstate.tflock"]
  }

  statement {
    sid       = "ListServiceState"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["service.tfstate*", "env:*"] # env: is where the S3 backend lists workspaces
    }
  }

  statement {
    sid       = "FindStateKey"
    actions   = ["kms:DescribeKey"] # make init-infra looks the key up by its alias
    resources = [data.aws_kms_alias.state.target_key_arn]
  }

  statement {
    sid       = "StateKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [data.aws_kms_alias.state.target_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid = "ServiceKey"
    # What the provider and the services that encrypt with the key do with the deploy role's
    # credentials: DescribeKey (data.aws_kms_alias, and each service checking the key), Encrypt (a
    # function's environment), data keys and Decrypt (secret values). The key is made in this stack,
    # so its ARN names it: no tag to trust, and nothing to manage.
    actions   = ["kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.service.arn]
  }

  statement {
    sid = "ServiceKeyGrantsForServices"
    # DynamoDB, Lambda and ElastiCache create a grant on the key for the resource they keep encrypted;
    # only such a grant, made by an AWS service for its resource: the role cannot grant the key directly.
    actions   = ["kms:CreateGrant"]
    resources = [aws_kms_key.service.arn]
    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }

  statement {
    sid     = "ListKeyAliases"
    actions = ["kms:ListAliases"]
    # ListAliases has no resource type: AWS requires "*" (it reads alias names only).
    resources = ["*"]
  }
}

# --- Data: tables, queues, secrets, the alarm topic, alarms and dashboard ------------------------------

data "aws_iam_policy_document" "deploy_data" {
  statement {
    sid = "Tables"
    actions = [
      "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTable", "dynamodb:UpdateTable",
      "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
      "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive",
      "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:ListTagsOfResource",
      "dynamodb:DescribeKinesisStreamingDestination", "dynamodb:GetResourcePolicy",
    ]
    resources = ["${local.arn.dynamodb}:table/${local.prefix}-*"]
  }

  statement {
    sid = "Queues"
    actions = [
      "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes",
      "sqs:GetQueueUrl", "sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags",
    ]
    resources = ["${local.arn.sqs}:${local.prefix}-*"]
  }

  statement {
    sid = "Secrets"
    actions = [
      "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
      "secretsmanager:GetResourcePolicy", "secretsmanager:UpdateSecret", "secretsmanager:TagResource",
      "secretsmanager:UntagResource",
    ]
    resources = ["${local.arn.secretsmanager}:secret:${local.prefix}/*"]
  }

  statement {
    sid = "RedisPasswordValue"
    # Terraform writes and reads the value of the Redis password only (modules/cache); the upstream key's
    # and the operator key's values are put by a person, and the deploy has no business reading them.
    # "??????" is the six characters Secrets Manager appends to the name.
    actions   = ["secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue", "secretsmanager:UpdateSecretVersionStage"]
    resources = ["${local.arn.secretsmanager}:secret:${local.prefix}/redis-auth-??????"]
  }

  statement {
    sid = "AlarmTopic"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe",
      "sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes",
      "sns:ListSubscriptionsByTopic", "sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource",
    ]
    resources = ["${local.arn.sns}:${local.prefix}-*"]
  }

  statement {
    sid = "AlarmsAndDashboard"
    actions = [
      "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:TagResource",
      "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource", "cloudwatch:PutDashboard",
      "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards",
    ]
    resources = ["${local.arn.cloudwatch}:alarm:${local.prefix}-*", "arn:${local.partition}:cloudwatch::${local.account}:dashboard/${local.prefix}"]
  }
}

# --- Compute: functions, their logs, the event source mapping, the schedules ---------------------------

data "aws_iam_policy_document" "deploy_compute" {
  # checkov:skip=CKV_AWS_356:"*" only for actions without resource types (lambda:CreateEventSourceMapping, CloudWatch Logs deliveries), each commented below
  # checkov:skip=CKV_AWS_111:CloudWatch Logs delivery actions have no resource types; they only route the API's access logs to a log group the deploy role already controls
  statement {
    sid = "Functions"
    actions = [
      "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
      "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:ListVersionsByFunction",
      "lambda:GetFunctionCodeSigningConfig", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency",
      "lambda:GetFunctionConcurrency", "lambda:GetPolicy",
      "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags", "lambda:GetRuntimeManagementConfig",
      "lambda:PutFunctionEventInvokeConfig", "lambda:GetFunctionEventInvokeConfig",
      "lambda:UpdateFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig",
    ]
    resources = ["${local.arn.lambda}:function:${local.prefix}-*"]
  }

  statement {
    sid = "InvokedByTheHttpApiOnly"
    # A function's resource policy may admit API Gateway and nothing else: no other account, service or
    # "*" can be let invoke the worker or the api. The schedules invoke through a role, not this policy.
    actions   = ["lambda:AddPermission", "lambda:RemovePermission"]
    resources = ["${local.arn.lambda}:function:${local.prefix}-*"]
    condition {
      test     = "StringEquals"
      variable = "lambda:Principal"
      values   = ["apigateway.amazonaws.com"]
    }
  }

  statement {
    sid = "EventSourceMappings"
    # Mapping ids are random UUIDs, and the provider's default tags make every plan read them.
    actions   = ["lambda:GetEventSourceMapping", "lambda:ListTags", "lambda:TagResource", "lambda:UntagResource"]
    resources = ["${local.arn.lambda}:event-source-mapping:*"]
  }

  statement {
    sid       = "ChangeEventSourceMappings"
    actions   = ["lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"]
    resources = ["${local.arn.lambda}:event-source-mapping:*"]
    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = ["${local.arn.lambda}:function:${local.prefix}-*"]
    }
  }

  statement {
    sid     = "CreateEventSourceMapping"
    actions = ["lambda:CreateEventSourceMapping"]
    # CreateEventSourceMapping has no resource type (the mapping's id does not exist yet): AWS requires
    # "*"; the condition limits it to the environment's functions.
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = ["${local.arn.lambda}:function:${local.prefix}-*"]
    }
  }

  statement {
    sid       = "SweepSchedule"
    actions   = ["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"]
    resources = ["${local.arn.scheduler}:schedule/default/${local.prefix}-*"]
  }

  statement {
    sid = "LogGroups"
    actions = [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:PutLogGroupDeletionProtection",
      "logs:AssociateKmsKey", "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource",
      "logs:ListTagsForResource", "logs:ListTagsLogGroup",
    ]
    resources = [
      "${local.arn.logs}:log-group:/aws/lambda/${local.prefix}-*",
      "${local.arn.logs}:log-group:/aws/apigateway/${local.prefix}*",
      "${local.arn.logs}:log-group:/vpc/${local.prefix}/*",
    ]
  }

  statement {
    sid       = "ListLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["${local.arn.logs}:log-group:*"] # a list action: AWS checks it against every group
  }

  statement {
    sid = "ApiAccessLogDelivery"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    ]
    # What enabling HTTP API access logging asks of the caller; these actions have no resource types:
    # AWS requires "*".
    resources = ["*"]
  }
}

# --- Roles: the functions', the flow log's and the schedules', all within the boundary -----------------

data "aws_iam_policy_document" "deploy_roles" {
  statement {
    sid = "RolesWithinTheBoundary"
    # Every role the deploy creates or changes carries the function boundary (boundary.tf), so no policy
    # it writes can reach past what the service's functions may do.
    actions = [
      "iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary",
      "iam:AttachRolePolicy", "iam:DetachRolePolicy",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${local.prefix}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arn]
    }
  }

  statement {
    sid = "Roles"
    actions = [
      "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole",
      "iam:UntagRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${local.prefix}-*"]
  }

  statement {
    sid       = "PassRolesToTheirServices"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${local.prefix}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com", "vpc-flow-logs.amazonaws.com", "scheduler.amazonaws.com"]
    }
  }

  statement {
    sid       = "KeepTheBoundary"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/*"]
  }

  statement {
    sid    = "NotThePipelineRoles"
    effect = "Deny"
    # The pipeline's roles share the countries-<env>- prefix the allows above match: every change a role
    # can take is denied on them, so a commit can neither widen nor lock out (a boundary, a detached
    # policy) the roles that run it.
    actions = [
      "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
      "iam:PutRolePermissionsBoundary", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:TagRole",
      "iam:UntagRole", "iam:DeleteRole", "iam:PassRole",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${local.prefix}-pipeline*"]
  }

  statement {
    sid       = "ElastiCacheServiceLinkedRole"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/aws-service-role/elasticache.amazonaws.com/*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["elasticache.amazonaws.com"]
    }
  }
}

# --- Network: the VPC and everything in it -------------------------------------------------------------

data "aws_iam_policy_document" "deploy_network" {
  # checkov:skip=CKV_AWS_356:"*" only for EC2's Describe actions, which have no resource-level permissions, and the Route 53 association of the AWS-owned private hosted zones that interface endpoints with private DNS use
  # checkov:skip=CKV_AWS_111:The Route 53 association's zone is AWS-owned, with an id no policy can know; the role can create no hosted zone of its own, and the endpoints' VPC must carry the environment's tag
  statement {
    sid = "CreateTaggedNetwork"
    # A resource being created is allowed only with the environment's tag in the request.
    actions = [
      "ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup",
      "ec2:CreateVpcEndpoint", "ec2:CreateFlowLogs", "ec2:AuthorizeSecurityGroupIngress",
      "ec2:AuthorizeSecurityGroupEgress",
    ]
    resources = [
      "${local.arn.ec2}:vpc/*", "${local.arn.ec2}:subnet/*", "${local.arn.ec2}:route-table/*",
      "${local.arn.ec2}:security-group/*", "${local.arn.ec2}:security-group-rule/*",
      "${local.arn.ec2}:vpc-endpoint/*", "${local.arn.ec2}:vpc-flow-log/*",
    ]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [var.environment]
    }
  }

  statement {
    sid       = "TagOnCreate"
    actions   = ["ec2:CreateTags"]
    resources = ["${local.arn.ec2}:*/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["CreateVpc", "CreateSubnet", "CreateRouteTable", "CreateSecurityGroup", "CreateVpcEndpoint", "CreateFlowLogs", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"]
    }
  }

  statement {
    sid = "ElastiCacheManagedEndpoint"
    # CreateServerlessCache makes a VPC endpoint that AWS manages, with the caller's credentials: the
    # request carries ElastiCache's own tag, not ours, so the endpoint itself is allowed by its service
    # name (as in AWS's AmazonElastiCacheFullAccess); the VPC, subnets and group it lands in still need
    # the environment's tag (ChangeTaggedNetwork).
    actions   = ["ec2:CreateVpcEndpoint"]
    resources = ["${local.arn.ec2}:vpc-endpoint/*"]
    condition {
      test     = "StringLike"
      variable = "ec2:VpceServiceName"
      values   = ["com.amazonaws.elasticache.serverless.*"]
    }
  }

  statement {
    sid       = "TagElastiCacheManagedEndpoint"
    actions   = ["ec2:CreateTags"]
    resources = ["${local.arn.ec2}:vpc-endpoint/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["CreateVpcEndpoint"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/AmazonElastiCacheManaged"
      values   = ["true"]
    }
  }

  statement {
    sid = "ChangeTaggedNetwork"
    # Existing resources (and those a new one attaches to: its VPC, subnets, route table, groups) must
    # carry the environment's tag.
    actions = [
      "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
      "ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
      "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
      "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
      "ec2:ModifySecurityGroupRules", "ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint",
      "ec2:CreateFlowLogs", "ec2:DeleteFlowLogs", "ec2:CreateTags", "ec2:DeleteTags",
    ]
    resources = ["${local.arn.ec2}:*/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [var.environment]
    }
  }

  statement {
    sid = "EgressToAwsPrefixLists"
    # The api's egress rule to DynamoDB names the AWS-owned prefix list of the gateway endpoint.
    actions   = ["ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress"]
    resources = ["arn:${local.partition}:ec2:${local.region}:aws:prefix-list/*"]
  }

  statement {
    sid = "LingeringLambdaInterfaces"
    # Deleting a security group or subnet first removes the network interfaces Lambda left in it; Lambda
    # creates them untagged, so no tag can scope this; an interface still attached cannot be deleted.
    actions   = ["ec2:DeleteNetworkInterface"]
    resources = ["${local.arn.ec2}:network-interface/*"]
  }

  statement {
    sid = "NetworkRead"
    actions = [
      "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets", "ec2:DescribeRouteTables",
      "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeVpcEndpoints",
      "ec2:DescribePrefixLists", "ec2:DescribeFlowLogs", "ec2:DescribeNetworkInterfaces", "ec2:DescribeNetworkAcls",
      "ec2:DescribeAvailabilityZones", "ec2:DescribeManagedPrefixLists", "ec2:DescribeVpcEndpointServices",
      "ec2:DescribeTags", "ec2:DescribeAccountAttributes",
    ]
    # EC2's Describe actions have no resource-level permissions: AWS requires "*".
    resources = ["*"]
  }

  statement {
    sid = "EndpointPrivateDns"
    # Dependent action of CreateVpcEndpoint with private DNS: EC2 associates the VPC with the private
    # hosted zone AWS owns for the service's name (sqs., secretsmanager.<region>.amazonaws.com), and
    # removes it when the endpoint goes.
    actions = ["route53:AssociateVPCWithHostedZone", "route53:DisassociateVPCFromHostedZone"]
    # That zone's id is AWS's, so no ARN can name it: "*".
    resources = ["*"]
  }
}

# --- The cache and the HTTP API ------------------------------------------------------------------------

data "aws_iam_policy_document" "deploy_cache_and_api" {
  statement {
    sid = "Cache"
    actions = [
      "elasticache:CreateServerlessCache", "elasticache:DeleteServerlessCache", "elasticache:DescribeServerlessCaches",
      "elasticache:ModifyServerlessCache", "elasticache:CreateUser", "elasticache:DeleteUser", "elasticache:DescribeUsers",
      "elasticache:ModifyUser", "elasticache:CreateUserGroup", "elasticache:DeleteUserGroup",
      "elasticache:DescribeUserGroups", "elasticache:ModifyUserGroup", "elasticache:AddTagsToResource",
      "elasticache:RemoveTagsFromResource", "elasticache:ListTagsForResource",
    ]
    resources = [
      "${local.arn.elasticache}:serverlesscache:${local.prefix}-*",
      "${local.arn.elasticache}:user:${local.prefix}-*",
      "${local.arn.elasticache}:usergroup:${local.prefix}-*",
    ]
  }

  statement {
    sid       = "CreateHttpApi"
    actions   = ["apigateway:POST"]
    resources = ["arn:${local.partition}:apigateway:${local.region}::/apis"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [var.environment]
    }
  }

  statement {
    sid = "HttpApi"
    # The API and what hangs under it (routes, integrations, stages: they answer to the API's tags).
    actions   = ["apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"]
    resources = ["arn:${local.partition}:apigateway:${local.region}::/apis/*", "arn:${local.partition}:apigateway:${local.region}::/tags/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [var.environment]
    }
  }
}

resource "aws_iam_policy" "deploy" {
  for_each = {
    state-and-keys = data.aws_iam_policy_document.deploy_state_and_keys.json
    data           = data.aws_iam_policy_document.deploy_data.json
    compute        = data.aws_iam_policy_document.deploy_compute.json
    roles          = data.aws_iam_policy_document.deploy_roles.json
    network        = data.aws_iam_policy_document.deploy_network.json
    cache-and-api  = data.aws_iam_policy_document.deploy_cache_and_api.json
  }
  name        = "${local.prefix}-pipeline-deploy-${each.key}"
  description = "make deploy ENV=${var.environment}: ${each.key}"
  policy      = each.value
}

resource "aws_iam_role_policy_attachment" "deploy" {
  for_each   = aws_iam_policy.deploy
  role       = aws_iam_role.deploy.name
  policy_arn = each.value.arn
}
