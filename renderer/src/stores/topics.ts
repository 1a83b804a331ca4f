import type { TopicInfo } from "../../../runtime/api/contract.ts";

// The Event Bus's topic list as the Inspector shows it: plain functions,
// tested on their own.

/** A subscription's pattern ("record.*", "*"), not a topic anyone publishes to. */
export function isTopicPattern(topic: string): boolean {
  return topic === "*" || topic.endsWith(".*");
}

/**
 * The engine's topic list split in two: topics (published, or named exactly
 * by a subscription) and subscription patterns, each with the published
 * topics it matches (the rule of runtime/event-bus/delivery.ts).
 */
export function splitTopics(topics: readonly TopicInfo[]): {
  topics: TopicInfo[];
  patterns: { pattern: string; subscribers: TopicInfo["subscribers"]; matches: string[] }[];
} {
  const concrete = topics.filter((t) => !isTopicPattern(t.topic));
  const patterns = topics
    .filter((t) => isTopicPattern(t.topic))
    .map((t) => ({
      pattern: t.topic,
      subscribers: t.subscribers,
      matches: concrete
        .filter((c) => c.published > 0)
        .map((c) => c.topic)
        .filter((c) => t.topic === "*" || c.startsWith(t.topic.slice(0, -1))),
    }));
  return { topics: concrete, patterns };
}
