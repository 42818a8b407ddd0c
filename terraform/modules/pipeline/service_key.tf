# The service's key: one customer-managed key per environment encrypts the tables, the queues, the
# secrets, the log groups, the functions' environments, the cache and the alarm topic, so one key policy
# says who may read the service's data at rest. It is made here, in the stack a person applies, and not
# in terraform/service: the deploy role may only use it, by its ARN (deploy_policy.tf, ServiceKey), so
# it can neither create nor re-tag, re-point, re-policy or delete a key, and no permission of its rests
# on a tag a few seconds old. terraform/service finds the key by its alias.

data "aws_iam_policy_document" "service_key" {
  # checkov:skip=CKV_AWS_109:A key policy; its "*" resource is the key itself, and only the account and named services are principals
  # checkov:skip=CKV_AWS_111:A key policy; its "*" resource is the key itself, and only the account and named services are principals
  # checkov:skip=CKV_AWS_356:A key policy; its "*" resource is the key itself, and only the account and named services are principals
  statement {
    sid = "AccountAdministersTheKey"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
    # The account's IAM policies decide who else may use or manage the key; these are the key's own
    # management and use actions, listed rather than kms:* so the policy says what it grants.
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    # A key policy always names its own key as "*": it is attached to exactly one key.
    resources = ["*"]
  }

  statement {
    sid = "CloudWatchLogsEncryptsTheServiceLogGroups"
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    # No kms:DescribeKey: it carries no encryption context, so the condition below could never hold for it.
    actions = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey"]
    # A key policy always names its own key as "*": it is attached to exactly one key.
    resources = ["*"]
    # Only for this environment's log groups (the functions', the API's access logs, the VPC flow log),
    # so no other group in the account can be encrypted with, or have its data key decrypted by, this key.
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values = [
        "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${local.prefix}-*",
        "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/apigateway/${local.prefix}",
        "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/vpc/${local.prefix}/*",
      ]
    }
  }

  statement {
    sid = "AlarmsAndQueuesPublishEncryptedMessages"
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "sns.amazonaws.com"]
    }
    actions = ["kms:Decrypt", "kms:GenerateDataKey"]
    # A key policy always names its own key as "*": it is attached to exactly one key.
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_kms_key" "service" {
  # The description is the one terraform/service gave the key, so an import into this stack changes nothing.
  description             = "${local.prefix}: tables, queues, secrets, logs and alarms"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.service_key.json
}

resource "aws_kms_alias" "service" {
  # terraform/service reads the key by this name (data.aws_kms_alias.service).
  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.service.key_id
}
