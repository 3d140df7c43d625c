/**
 * The consumer group's partition assigner with a shared Redis store: partition p of every input
 * topic goes to the same member (members sorted by id, partition p to member p mod count), because
 * shard p holds the entities of partition p of all input topics and exactly one member may write
 * for it. kafkajs's default round-robin assigner spreads topic-partitions one by one and would,
 * with two input topics, give p of one topic and p of the other to different members.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const CO_PARTITIONED_ASSIGNER = 'GatekeeperCoPartitioned';

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED_ASSIGNER,
  version: 0,
  assign({ members, topics }) {
    const sorted = members.map(({ memberId }) => memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>();
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = sorted[partitionId % sorted.length] as string;
        const topicsOf = assignment.get(member) ?? {};
        (topicsOf[topic] ??= []).push(partitionId);
        assignment.set(member, topicsOf);
      }
    }
    return Promise.resolve(
      [...assignment].map(([memberId, topicsOf]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: topicsOf,
          userData: Buffer.alloc(0),
        }),
      })),
    );
  },
  protocol({ topics }) {
    return {
      name: CO_PARTITIONED_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});
