# The delivery pipeline of one environment: on every push to the branch, Source (CodeStar connection) ->
# Test (make test, make test-arm64, cargo deny; its zips the `tested` artifact) -> Deploy: Plan (a saved
# plan of those zips, summarised), [prod: manual approval of that plan], Apply (exactly that plan, then
# the smoke test). Its own stack
# (terraform/pipeline), applied by a person, so the deploy role cannot widen its own permissions.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.region
  partition = data.aws_partition.current.partition
  # Everything the deploy stage creates is named with this prefix (terraform/service: countries-<env>).
  prefix = "countries-${var.environment}"
  # Known before the group exists, for the key policy's encryption-context condition.
  build_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/codebuild/${local.prefix}"
  arn                 = { for svc in ["dynamodb", "sqs", "lambda", "logs", "secretsmanager", "sns", "cloudwatch", "apigateway", "elasticache", "kms", "ec2", "scheduler"] : svc => "arn:${local.partition}:${svc}:${local.region}:${local.account}" }
}

resource "aws_codestarconnections_connection" "git" {
  # Created PENDING: a person completes the hand-shake once in the console (docs/operations.md).
  name          = "${local.prefix}-git"
  provider_type = var.git_provider
}

resource "aws_s3_bucket" "artifacts" {
  bucket        = "${local.prefix}-pipeline-${local.account}"
  force_destroy = true # only build artifacts: nothing here is the only copy
  # checkov:skip=CKV_AWS_144:Pipeline artifacts are rebuilt from Git on every run; replicating them buys nothing
  # checkov:skip=CKV_AWS_18:Access logging needs a second bucket; CloudTrail records the pipeline's access
  # checkov:skip=CKV2_AWS_62:Nothing reacts to new artifacts; CodePipeline passes them between stages itself
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.artifacts.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "artifacts_bucket" {
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.artifacts_bucket.json
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    id     = "expire-artifacts"
    status = "Enabled"
    filter {}
    expiration {
      days = var.artifact_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_kms_key" "artifacts" {
  description             = "${local.prefix}: pipeline artifacts, build cache and build logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.artifacts_key.json
}

data "aws_iam_policy_document" "artifacts_key" {
  # checkov:skip=CKV_AWS_109:A key policy; its "*" resource is the key itself, and only the account and named services are principals
  # checkov:skip=CKV_AWS_111:A key policy; its "*" resource is the key itself, and only the account and named services are principals
  # checkov:skip=CKV_AWS_356:A key policy; its "*" resource is the key itself, and only the account and named services are principals
  statement {
    sid = "AccountAdministersTheKey"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
    # Every management and use action, so the account's IAM policies can delegate the key's whole
    # administration (listed rather than kms:* so the policy says what it grants).
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
    sid = "CloudWatchLogsEncryptsBuildLogs"
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    # No kms:DescribeKey: it carries no encryption context, so the condition below could never hold for it.
    actions = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    # A key policy always names its own key as "*": it is attached to exactly one key.
    resources = ["*"]
    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.build_log_group_arn]
    }
  }
}

resource "aws_cloudwatch_log_group" "builds" {
  # checkov:skip=CKV_AWS_338:Retention is set per environment (prod 365 days, dev 14): a year of dev logs is cost without use
  name              = "/aws/codebuild/${local.prefix}" # local.build_log_group_arn
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.artifacts.arn
}

# --- CodeBuild ---------------------------------------------------------------------------------------

locals {
  # The projects, by the role they run with: the Plan and Apply actions both act as the deploy role,
  # the pull-request check (below) as a role of its own.
  build_role_projects = {
    for role, projects in {
      test          = ["test"]
      deploy        = ["plan", "apply"]
      pull-requests = ["pull-requests"]
    } : role => projects if role != "pull-requests" || local.pull_request_checks
  }
}

# Each build role trusts CodeBuild only on behalf of its own projects in this account.
data "aws_iam_policy_document" "codebuild_assume" {
  for_each = local.build_role_projects
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [for p in each.value : "arn:${local.partition}:codebuild:${local.region}:${local.account}:project/${local.prefix}-${p}"]
    }
  }
}

# What the pipeline's build projects need: their logs, test reports, the artifacts and the cache (and,
# for the Plan action, the plan's text beside them, under plans/).
data "aws_iam_policy_document" "build_common" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.builds.arn}:*"]
  }
  statement {
    sid       = "Reports"
    actions   = ["codebuild:CreateReportGroup", "codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases"]
    resources = ["arn:${local.partition}:codebuild:${local.region}:${local.account}:report-group/${local.prefix}-*"]
  }
  statement {
    sid       = "ArtifactsAndCache"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketLocation", "s3:ListBucket"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
  }
  statement {
    sid       = "ArtifactsKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.artifacts.arn]
  }
}

resource "aws_iam_role" "test" {
  name               = "${local.prefix}-pipeline-test"
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume["test"].json
}

resource "aws_iam_role_policy" "test" {
  name   = "test"
  role   = aws_iam_role.test.id
  policy = data.aws_iam_policy_document.build_common.json
}

resource "aws_iam_role" "deploy" {
  name               = "${local.prefix}-pipeline-deploy"
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume["deploy"].json
}

resource "aws_iam_role_policy" "deploy_common" {
  name   = "build"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.build_common.json
}

# The deploy role's service-stack permissions are managed policies (deploy_policy.tf).

locals {
  build_environment = {
    compute_type = var.compute_type
    image        = var.build_image
  }
}

resource "aws_codebuild_project" "test" {
  name           = "${local.prefix}-test"
  description    = "make test: formatting, lints, unit, adapter, end-to-end and infrastructure checks"
  service_role   = aws_iam_role.test.arn
  encryption_key = aws_kms_key.artifacts.arn
  build_timeout  = 60

  source {
    type      = "CODEPIPELINE"
    buildspec = "buildspec-test.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  cache {
    type     = "S3"
    location = "${aws_s3_bucket.artifacts.bucket}/cache/test"
  }

  environment {
    compute_type    = local.build_environment.compute_type
    image           = local.build_environment.image
    type            = "LINUX_CONTAINER"
    privileged_mode = false
  }

  logs_config {
    cloudwatch_logs {
      group_name  = aws_cloudwatch_log_group.builds.name
      stream_name = "test"
    }
  }
}

resource "aws_codebuild_project" "plan" {
  name           = "${local.prefix}-plan"
  description    = "make build and make plan-infra ENV=${var.environment}: the Lambda zips and a saved plan of the service stack, with its summary"
  service_role   = aws_iam_role.deploy.arn
  encryption_key = aws_kms_key.artifacts.arn
  build_timeout  = 60

  source {
    type      = "CODEPIPELINE"
    buildspec = "buildspec.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  # No cache: Plan compiles nothing, and its work directory holds the saved plan (the Redis password).

  environment {
    compute_type    = local.build_environment.compute_type
    image           = local.build_environment.image
    type            = "LINUX_CONTAINER"
    privileged_mode = false
    environment_variable {
      name  = "ENV"
      value = var.environment
    }
    environment_variable {
      name  = "ARTIFACT_BUCKET"
      value = aws_s3_bucket.artifacts.bucket
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name  = aws_cloudwatch_log_group.builds.name
      stream_name = "plan"
    }
  }
}

resource "aws_codebuild_project" "apply" {
  name           = "${local.prefix}-apply"
  description    = "make apply-infra ENV=${var.environment} of the Plan action's saved plan, then make smoke-test"
  service_role   = aws_iam_role.deploy.arn
  encryption_key = aws_kms_key.artifacts.arn
  build_timeout  = 60

  source {
    type      = "CODEPIPELINE"
    buildspec = "buildspec-apply.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  cache {
    type     = "S3"
    location = "${aws_s3_bucket.artifacts.bucket}/cache/apply"
  }

  environment {
    # Apply compiles nothing: Terraform and the smoke test need no large machine.
    compute_type    = "BUILD_GENERAL1_SMALL"
    image           = local.build_environment.image
    type            = "LINUX_CONTAINER"
    privileged_mode = false
    environment_variable {
      name  = "ENV"
      value = var.environment
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name  = aws_cloudwatch_log_group.builds.name
      stream_name = "apply"
    }
  }
}

# --- Pull requests -----------------------------------------------------------------------------------

# `make test` on every pull request, its result reported on the pull request as a commit status. A
# CodeBuild project with a webhook rather than a pull-request trigger on a pipeline: this pipeline's
# trigger would run Plan and Apply on the pull request's code, and a second, test-only pipeline would
# report no status to the pull request. The project belongs to no pipeline, so nothing it builds is
# deployed, and since a pull request's code (its buildspec included) runs in it, its role may write
# its own logs and reports and read the repository through the connection, nothing else: no
# artifact, cache, state, key or deploy permission is in reach.
locals {
  # One check per repository, not per environment: the dev pipeline's stack holds it.
  # CreateProject checks the project's role against the connection, and CreateWebhook goes through it:
  # both need the hand-shake a person completes after the first apply (pull_request_webhook).
  pull_request_checks = var.environment == "dev" && var.pull_request_webhook
  pull_request_sources = {
    GitHub    = { type = "GITHUB", location = "https://github.com/${var.repository}.git", approvers = ["GITHUB_WRITE", "GITHUB_MAINTAIN", "GITHUB_ADMIN"] }
    GitLab    = { type = "GITLAB", location = "https://gitlab.com/${var.repository}.git", approvers = ["GITLAB_DEVELOPER", "GITLAB_MAINTAINER", "GITLAB_OWNER"] }
    Bitbucket = { type = "BITBUCKET", location = "https://bitbucket.org/${var.repository}.git", approvers = ["BITBUCKET_WRITE", "BITBUCKET_ADMIN"] }
  }
  pull_request_source = local.pull_request_sources[var.git_provider]
}

data "aws_iam_policy_document" "pull_requests" {
  statement {
    sid       = "OwnLogStreams"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.builds.arn}:log-stream:pull-requests/*"]
  }
  statement {
    sid       = "OwnReports"
    actions   = ["codebuild:CreateReportGroup", "codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases"]
    resources = ["arn:${local.partition}:codebuild:${local.region}:${local.account}:report-group/${local.prefix}-pull-requests-*"]
  }
  statement {
    # CodeBuild fetches the pull request's commit and posts its status with the connection's token.
    sid       = "Source"
    actions   = ["codestar-connections:GetConnection", "codestar-connections:GetConnectionToken", "codeconnections:GetConnection", "codeconnections:GetConnectionToken"]
    resources = [aws_codestarconnections_connection.git.arn]
  }
}

resource "aws_iam_role" "pull_requests" {
  count              = local.pull_request_checks ? 1 : 0
  name               = "${local.prefix}-pipeline-pull-requests"
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume["pull-requests"].json
}

resource "aws_iam_role_policy" "pull_requests" {
  count  = local.pull_request_checks ? 1 : 0
  name   = "pull-requests"
  role   = aws_iam_role.pull_requests[0].id
  policy = data.aws_iam_policy_document.pull_requests.json
}

resource "aws_codebuild_project" "pull_requests" {
  # checkov:skip=CKV_AWS_147:No artifacts and only a local cache: the build writes nothing a key would encrypt, and its role holds no key
  count         = local.pull_request_checks ? 1 : 0
  name          = "${local.prefix}-pull-requests"
  description   = "make test on every pull request, reported on the pull request"
  service_role  = aws_iam_role.pull_requests[0].arn
  build_timeout = 60

  source {
    type                = local.pull_request_source.type
    location            = local.pull_request_source.location
    buildspec           = "buildspec-test.yml"
    git_clone_depth     = 1
    report_build_status = true
    build_status_config {
      context = "${local.prefix}/make-test"
    }
    auth {
      type     = "CODECONNECTIONS"
      resource = aws_codestarconnections_connection.git.arn
    }
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  # On the build host only: a shared S3 cache would let a pull request's build hand its files to the
  # pipeline's builds.
  cache {
    type  = "LOCAL"
    modes = ["LOCAL_SOURCE_CACHE", "LOCAL_CUSTOM_CACHE"]
  }

  environment {
    compute_type    = local.build_environment.compute_type
    image           = local.build_environment.image
    type            = "LINUX_CONTAINER"
    privileged_mode = false
  }

  logs_config {
    cloudwatch_logs {
      group_name  = aws_cloudwatch_log_group.builds.name
      stream_name = "pull-requests"
    }
  }
}

resource "aws_codebuild_webhook" "pull_requests" {
  count        = local.pull_request_checks ? 1 : 0
  project_name = aws_codebuild_project.pull_requests[0].name
  build_type   = "BUILD"

  filter_group {
    filter {
      type    = "EVENT"
      pattern = "PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED, PULL_REQUEST_REOPENED"
    }
  }

  # A pull request from someone without write access builds only after a maintainer comments to run
  # it: until then no stranger's code runs in the account.
  pull_request_build_policy {
    requires_comment_approval = "ALL_PULL_REQUESTS"
    approver_roles            = local.pull_request_source.approvers
  }
}

# --- CodePipeline ------------------------------------------------------------------------------------

data "aws_iam_policy_document" "pipeline_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codepipeline.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:codepipeline:${local.region}:${local.account}:${local.prefix}"]
    }
  }
}

data "aws_iam_policy_document" "pipeline" {
  statement {
    sid       = "Source"
    actions   = ["codestar-connections:UseConnection", "codeconnections:UseConnection"]
    resources = [aws_codestarconnections_connection.git.arn]
  }
  statement {
    sid       = "Builds"
    actions   = ["codebuild:StartBuild", "codebuild:BatchGetBuilds"]
    resources = [aws_codebuild_project.test.arn, aws_codebuild_project.plan.arn, aws_codebuild_project.apply.arn]
  }
  statement {
    sid       = "Artifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketVersioning", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
  }
  statement {
    sid       = "ArtifactsKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.artifacts.arn]
  }
}

resource "aws_iam_role" "pipeline" {
  name               = "${local.prefix}-pipeline"
  assume_role_policy = data.aws_iam_policy_document.pipeline_assume.json
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "pipeline"
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline.json
}

resource "aws_codepipeline" "this" {
  name           = local.prefix
  role_arn       = aws_iam_role.pipeline.arn
  pipeline_type  = "V2"
  execution_mode = "QUEUED" # deploys run one after another, in push order

  artifact_store {
    type     = "S3"
    location = aws_s3_bucket.artifacts.bucket
    encryption_key {
      id   = aws_kms_key.artifacts.arn
      type = "KMS"
    }
  }

  stage {
    name = "Source"
    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      output_artifacts = ["source"]
      configuration = {
        ConnectionArn    = aws_codestarconnections_connection.git.arn
        FullRepositoryId = var.repository
        BranchName       = var.branch
      }
    }
  }

  stage {
    name = "Test"
    action {
      name            = "Test"
      category        = "Test"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["source"]
      # The zips `make test-arm64` ran under qemu: Plan deploys these bytes, not a rebuild.
      output_artifacts = ["tested"]
      configuration = {
        ProjectName = aws_codebuild_project.test.name
      }
    }
  }

  # Plan, approval and apply in one stage: a stage holds one run at a time, so a later push cannot plan
  # (taking the state's lock, or making the waiting plan stale) while this run waits for its approval
  # or applies; it queues before the stage instead.
  stage {
    name = "Deploy"
    action {
      name             = "Plan"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      run_order        = 1
      namespace        = "PlanSummary" # PLAN_SUMMARY and PLAN_URL, the buildspec's exported variables (a namespace may not share an artifact's name)
      input_artifacts  = ["source", "tested"]
      output_artifacts = ["plan"]
      configuration = {
        ProjectName   = aws_codebuild_project.plan.name
        PrimarySource = "source"
        # The plan's text is kept under the execution's id, so the approval links to this run's plan.
        EnvironmentVariables = jsonencode([
          { name = "PIPELINE_EXECUTION_ID", value = "#{codepipeline.PipelineExecutionId}", type = "PLAINTEXT" },
        ])
      }
    }

    # The approver reads what the saved plan does in the message and the whole plan behind the link;
    # approving lets Apply run exactly that plan, and rejecting ends the run with nothing applied.
    dynamic "action" {
      for_each = var.require_approval ? [1] : []
      content {
        name      = "Approve"
        category  = "Approval"
        owner     = "AWS"
        provider  = "Manual"
        version   = "1"
        run_order = 2
        configuration = {
          CustomData         = "${var.environment}: #{PlanSummary.PLAN_SUMMARY} The link shows the whole plan."
          ExternalEntityLink = "#{PlanSummary.PLAN_URL}"
        }
      }
    }

    action {
      name            = "Apply"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      run_order       = 3
      input_artifacts = ["source", "plan"]
      configuration = {
        ProjectName   = aws_codebuild_project.apply.name
        PrimarySource = "source"
      }
    }
  }
}
