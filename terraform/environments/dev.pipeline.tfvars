# The dev pipeline deploys every push to main, without approval.
environment      = "dev"
region           = "us-east-1"
repository       = "example-org/country-data-service"
branch           = "main"
require_approval = false
