// Readiness probe used by start-kafka.sh (compiled once into the jar cache).
//
//   java -cp '<libs>/*:<classes>' KafkaReady <bootstrap> <timeoutSeconds> [<pid>] [--warmup]
//
// Retries until the broker at <bootstrap> answers a DescribeCluster call and a
// Metadata request (listTopics) through the Kafka AdminClient, or until the
// timeout passes. If <pid> is given and that process exits, it gives up at
// once. With --warmup it then also waits until the group coordinator answers
// (creating/loading __consumer_offsets) and a transactional producer can
// initTransactions() (creating __transaction_state and the first producer-id
// block), so clients do not see "coordinator not available/loading" errors
// on their first request. Exit code 0 = ready, 1 = not ready, 2 = usage error.
import java.time.Duration;
import java.util.Collection;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class KafkaReady {
    public static void main(String[] args) throws Exception {
        boolean warmup = false;
        java.util.List<String> pos = new java.util.ArrayList<>();
        for (String a : args) {
            if (a.equals("--warmup")) warmup = true; else pos.add(a);
        }
        if (pos.size() < 2) {
            System.err.println("usage: KafkaReady <bootstrap> <timeoutSeconds> [<pid>] [--warmup]");
            System.exit(2);
        }
        String bootstrap = pos.get(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(pos.get(1)));
        Long pid = pos.size() > 2 ? Long.valueOf(pos.get(2)) : null;

        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "gatekeeper-kafka-ready");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "200");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "200");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");

        String last = "no attempt";
        try (Admin admin = Admin.create(p)) {
            while (System.nanoTime() < deadline) {
                if (pid != null && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    System.err.println("KafkaReady: broker process " + pid + " exited");
                    System.exit(1);
                }
                try {
                    DescribeClusterResult dc = admin.describeCluster();
                    Collection<Node> nodes = dc.nodes().get(5, TimeUnit.SECONDS);
                    Node controller = dc.controller().get(5, TimeUnit.SECONDS);
                    Set<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true))
                            .names().get(5, TimeUnit.SECONDS);
                    if (!nodes.isEmpty() && controller != null && !controller.isEmpty()) {
                        if (warmup) {
                            warmUp(admin, bootstrap, deadline);
                        }
                        System.err.println("KafkaReady: " + bootstrap + " ready; nodes=" + nodes.size()
                                + " topics=" + topics.size() + (warmup ? " (coordinators warmed up)" : ""));
                        System.exit(0);
                    }
                    last = "no live broker in metadata yet";
                } catch (Exception e) {
                    Throwable c = e.getCause() != null ? e.getCause() : e;
                    last = c.getClass().getSimpleName() + ": " + c.getMessage();
                }
                Thread.sleep(Duration.ofMillis(300).toMillis());
            }
        }
        System.err.println("KafkaReady: " + bootstrap + " not ready before timeout (" + last + ")");
        System.exit(1);
    }

    private static long remainingMs(long deadline) {
        return Math.max(1000L, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    // Throws if the coordinators are not usable before the deadline (caught and retried by main).
    private static void warmUp(Admin admin, String bootstrap, long deadline) throws Exception {
        // FindCoordinator(GROUP) + DescribeGroups: creates/loads __consumer_offsets.
        admin.describeConsumerGroups(java.util.List.of("gatekeeper-kafka-warmup"),
                        new DescribeConsumerGroupsOptions().timeoutMs((int) Math.min(Integer.MAX_VALUE, remainingMs(deadline))))
                .all().get(remainingMs(deadline), TimeUnit.MILLISECONDS);
        // InitProducerId(transactional): creates/loads __transaction_state; a fresh
        // transactional id forces a new producer id, so the broker also fetches its
        // producer-id block now (else a client's first idempotent producer gets
        // COORDINATOR_LOAD_IN_PROGRESS, notably right after a restart).
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.CLIENT_ID_CONFIG, "gatekeeper-kafka-warmup");
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "gatekeeper-kafka-warmup-" + System.currentTimeMillis());
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(remainingMs(deadline)));
        pp.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        try (KafkaProducer<byte[], byte[]> producer =
                     new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
        }
    }
}
