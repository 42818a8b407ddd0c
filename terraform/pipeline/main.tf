# The delivery pipeline of one environment, applied by a person (`make apply-infra STACK=pipeline`):
# the pipeline then deploys terraform/service on every push, with a role that cannot change this stack.

data "aws_caller_identity" "current" {}

module "pipeline" {
  source           = "../modules/pipeline"
  environment      = var.environment
  repository       = var.repository
  branch           = var.branch
  require_approval = var.require_approval
  # The webhook is registered through the connection, which works only once its hand-shake is done.
  pull_request_webhook = var.pull_request_webhook
  state_bucket         = "countries-tfstate-${data.aws_caller_identity.current.account_id}-${var.environment}"
}
