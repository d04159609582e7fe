import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isPublishAllowed,
  isSubscribeAllowed,
  readTopicScopes,
} from '../../../../src/core/pubsub/topic-scopes.js';

describe('topic scopes', () => {
  it('reads every parameter case-insensitively, without spaces or duplicates', () => {
    const scopes = readTopicScopes(
      {
        AllowedTopics: 'a, b ,a',
        protectedtopics: 'p',
        publishingScopes: 'app1=a,p;app2=b;app1=b',
        subscriptionScopes: 'app2=a; app1 = b',
      },
      'app1',
    );
    assert.deepEqual(scopes, {
      allowedTopics: ['a', 'b'],
      protectedTopics: ['p'],
      publishingScopes: ['a', 'p', 'b'],
      subscriptionScopes: ['b'],
    });
  });

  it('allows everything when nothing is set', () => {
    const scopes = readTopicScopes({}, 'app1');
    assert.equal(isPublishAllowed(scopes, 'any'), true);
    assert.equal(isSubscribeAllowed(scopes, 'any'), true);
  });

  it('limits every app to allowedTopics', () => {
    const scopes = readTopicScopes({ allowedTopics: 'a,b' }, 'app1');
    assert.equal(isPublishAllowed(scopes, 'a'), true);
    assert.equal(isPublishAllowed(scopes, 'c'), false);
    assert.equal(isSubscribeAllowed(scopes, 'c'), false);
  });

  it('limits an app with a scope list to that list, per direction', () => {
    const metadata = { publishingScopes: 'app1=a', subscriptionScopes: 'app2=a' };
    const app1 = readTopicScopes(metadata, 'app1');
    assert.equal(isPublishAllowed(app1, 'a'), true);
    assert.equal(isPublishAllowed(app1, 'b'), false);
    assert.equal(isSubscribeAllowed(app1, 'b'), true);
    const app3 = readTopicScopes(metadata, 'app3');
    assert.equal(isPublishAllowed(app3, 'b'), true);
  });

  it('reads an empty list as no topic at all', () => {
    const scopes = readTopicScopes({ publishingScopes: 'app1=;app2=a' }, 'app1');
    assert.equal(isPublishAllowed(scopes, 'a'), false);
    assert.equal(isPublishAllowed(scopes, ''), true);
  });

  it('needs an explicit scope for a protected topic', () => {
    const metadata = { protectedTopics: 'secret', publishingScopes: 'app1=secret' };
    assert.equal(isPublishAllowed(readTopicScopes(metadata, 'app1'), 'secret'), true);
    assert.equal(isPublishAllowed(readTopicScopes(metadata, 'app2'), 'secret'), false);
    assert.equal(isPublishAllowed(readTopicScopes(metadata, 'app2'), 'open'), true);
    assert.equal(isSubscribeAllowed(readTopicScopes(metadata, 'app1'), 'secret'), false);
  });

  it('checks allowedTopics before the scopes', () => {
    const scopes = readTopicScopes({ allowedTopics: 'a', publishingScopes: 'app1=b' }, 'app1');
    assert.equal(isPublishAllowed(scopes, 'b'), false);
    assert.equal(isPublishAllowed(scopes, 'a'), false);
  });
});
