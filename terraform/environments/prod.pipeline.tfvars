# The prod pipeline deploys the release branch after a person approves the tested commit.
environment      = "prod"
region           = "us-east-1"
repository       = "example-org/country-data-service"
branch           = "release"
require_approval = true
