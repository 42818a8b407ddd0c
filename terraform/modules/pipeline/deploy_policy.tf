# What `terraform apply` of terraform/service (and the smoke test) touches, and nothing else: each
# statement is scoped to the environment's name prefix (countries-<env>-...), its tags or its state.
# The pipeline's own roles share the prefix, so an explicit Deny keeps the deploy from editing them.

data "aws_iam_policy_document" "deploy" {
  # checkov:skip=CKV_AWS_356:"*" only for actions without resource types (sts:GetCallerIdentity, kms:CreateKey and ListAliases, lambda:CreateEventSourceMapping, EC2 Describe), each commented below
  statement {
    sid       = "WhoAmI"
    actions   = ["sts:GetCallerIdentity"]
    resources = ["*"] # GetCallerIdentity has no resource: AWS requires "*"
  }

  statement {
    sid       = "State"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}", "arn:${local.partition}:s3:::${var.state_bucket}/*"]
  }

  statement {
    sid       = "StateKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = ["${local.arn.kms}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

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
    sid = "Functions"
    actions = [
      "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
      "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:ListVersionsByFunction",
      "lambda:GetFunctionCodeSigningConfig", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency",
      "lambda:GetFunctionConcurrency", "lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy",
      "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags", "lambda:GetRuntimeManagementConfig",
    ]
    resources = ["${local.arn.lambda}:function:${local.prefix}-*"]
  }

  statement {
    sid       = "EventSourceMappings"
    actions   = ["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"]
    resources = ["${local.arn.lambda}:event-source-mapping:*"]
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
    sid = "FunctionRoles"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy",
      "iam:TagRole", "iam:UntagRole", "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy",
      "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:PassRole",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${local.prefix}-*"]
  }

  statement {
    sid       = "NotThePipelineRoles"
    effect    = "Deny"
    actions   = ["iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:AttachRolePolicy", "iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${local.prefix}-pipeline*"]
  }

  statement {
    sid       = "ElastiCacheServiceLinkedRole"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/aws-service-role/elasticache.amazonaws.com/*"]
  }

  statement {
    sid = "LogGroups"
    actions = [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DescribeLogGroups", "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey", "logs:DisassociateKmsKey", "logs:TagResource",
      "logs:UntagResource", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
    ]
    resources = ["${local.arn.logs}:log-group:*"]
  }

  statement {
    sid = "Secrets"
    actions = [
      "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
      "secretsmanager:GetResourcePolicy", "secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue",
      "secretsmanager:UpdateSecret", "secretsmanager:TagResource", "secretsmanager:UntagResource",
    ]
    resources = ["${local.arn.secretsmanager}:secret:${local.prefix}/*"]
  }

  statement {
    sid = "ServiceKey"
    actions = [
      "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation",
      "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
      "kms:ListResourceTags", "kms:CreateGrant", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
      "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias",
    ]
    resources = ["${local.arn.kms}:key/*", "${local.arn.kms}:alias/${local.prefix}"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [var.environment]
    }
  }

  statement {
    sid     = "CreateKey"
    actions = ["kms:CreateKey"]
    # CreateKey has no resource type (the key does not exist yet): AWS requires "*"; the condition
    # allows only keys created with this environment's tag.
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [var.environment]
    }
  }

  statement {
    sid     = "ListKeyAliases"
    actions = ["kms:ListAliases"]
    # ListAliases has no resource type: AWS requires "*" (it reads alias names only).
    resources = ["*"]
  }

  statement {
    sid = "Network"
    actions = [
      "ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:CreateSubnet", "ec2:DeleteSubnet",
      "ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
      "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
      "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
      "ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint", "ec2:CreateFlowLogs",
      "ec2:DeleteFlowLogs", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteNetworkInterface",
    ]
    resources = ["${local.arn.ec2}:*"]
  }

  statement {
    sid     = "NetworkRead"
    actions = ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists", "ec2:DescribeFlowLogs", "ec2:DescribeNetworkInterfaces", "ec2:DescribeAvailabilityZones", "ec2:DescribeManagedPrefixLists", "ec2:DescribeVpcEndpointServices", "ec2:DescribeTags", "ec2:DescribeAccountAttributes"]
    # EC2's Describe actions have no resource-level permissions: AWS requires "*".
    resources = ["*"]
  }

  statement {
    sid = "Cache"
    actions = [
      "elasticache:CreateServerlessCache", "elasticache:DeleteServerlessCache", "elasticache:DescribeServerlessCaches",
      "elasticache:ModifyServerlessCache", "elasticache:CreateUser", "elasticache:DeleteUser", "elasticache:DescribeUsers",
      "elasticache:ModifyUser", "elasticache:CreateUserGroup", "elasticache:DeleteUserGroup",
      "elasticache:DescribeUserGroups", "elasticache:ModifyUserGroup", "elasticache:AddTagsToResource",
      "elasticache:RemoveTagsFromResource", "elasticache:ListTagsForResource",
    ]
    resources = ["${local.arn.elasticache}:*"]
  }

  statement {
    sid       = "HttpApi"
    actions   = ["apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE", "apigateway:TagResource"]
    resources = ["arn:${local.partition}:apigateway:${local.region}::/apis", "arn:${local.partition}:apigateway:${local.region}::/apis/*", "arn:${local.partition}:apigateway:${local.region}::/tags/*"]
  }

  statement {
    sid = "AlarmTopic"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe",
      "sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic", "sns:TagResource",
      "sns:UntagResource", "sns:ListTagsForResource",
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
