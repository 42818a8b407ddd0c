//! The baseline the api Lambda's start-up time and memory are measured against: a hello-world
//! `lambda_http` function in its own workspace, built with the service's `lambda-release` profile
//! (`make bench-lambda`).

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_: Request| async {
        Ok::<_, Error>(
            Response::builder()
                .status(200)
                .body(Body::from("hello"))
                .unwrap(),
        )
    }))
    .await
}
