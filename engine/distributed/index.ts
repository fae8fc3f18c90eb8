export { k8sJobManifests, k8sMergeJob, objectNames, type K8sObject } from './k8s-manifests.js'
export { MIN_SECRET_LENGTH, RUN_SECRET_ENV, type K8sFile, type K8sJobSpec, type K8sMergeSpec } from './k8s-spec.js'
