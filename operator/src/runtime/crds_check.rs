//! Refusing to start against a cluster without the govcloud CRDs, with the fix in the
//! message rather than a stream of watch errors.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use kube::{Client, ResourceExt};

use super::RunError;

/// Names of the CRDs that are not installed.
pub async fn missing_crds(client: &Client) -> Result<Vec<String>, RunError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut missing = Vec::new();
    for (_, crd) in crate::crds::all() {
        let name = crd.name_any();
        if api.get_opt(&name).await.map_err(RunError::Cluster)?.is_none() {
            missing.push(name);
        }
    }
    Ok(missing)
}
