# The delivery pipeline of one environment, applied by a person (`make apply-infra STACK=pipeline`):
# the pipeline then deploys terraform/service on every push, with a role that cannot change this stack.

data "aws_caller_identity" "current" {}

module "pipeline" {
  source           = "../modules/pipeline"
  environment      = var.environment
  repository       = var.repository
  branch           = var.branch
  require_approval = var.require_approval
  state_bucket     = "countries-tfstate-${data.aws_caller_identity.current.account_id}-${var.environment}"
}
