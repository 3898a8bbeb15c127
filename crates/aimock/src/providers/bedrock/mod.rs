//! AWS Bedrock: InvokeModel, InvokeModelWithResponseStream, Converse and ConverseStream, with AWS EventStream framing.

use http::Method;

use super::Route;

/// This provider's routes; `None` for any other path.
pub(crate) fn route(_method: &Method, _path: &str) -> Option<Route> {
    None
}
