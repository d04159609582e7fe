// Resources shared by the publish-side end-to-end tests: an open in-memory pub/sub and one whose
// topics are scoped for the test app.
import { resourcesDir } from '../../helpers/taprd-process.js';

/** The app id the publish tests run taprd as. */
export const PUBLISHER_APP_ID = 'publisher';

/** `pubsub` (open) and `scoped`: `allowed` is fine, `secret` is protected, others not allowed. */
export function publishResources(): Promise<string> {
  return resourcesDir({
    'pubsub.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: scoped
spec:
  type: pubsub.in-memory
  version: v1
  metadata:
    - name: allowedTopics
      value: "allowed,secret"
    - name: protectedTopics
      value: "secret"
    - name: publishingScopes
      value: "someone-else=secret"
`,
  });
}
