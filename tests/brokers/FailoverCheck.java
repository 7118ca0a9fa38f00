// A JMS client on an ActiveMQ failover: URL, as an application would use MessageBroker.connection_url.
// Usage: FailoverCheck URL QUEUE COUNT DEADLINE_SECONDS
//
// One thread sends COUNT persistent messages (property "n" = 1..COUNT), another consumes them in a
// transacted session. Every outcome is printed on stdout, one line each, "KIND n detail":
//   SENT n id       the send of n returned: the broker stored it (a synchronous persistent send), so
//                   n was acknowledged to the caller
//   UNACKED n why   the send of n threw: n was not acknowledged to the caller, who must resend it
//   RECV n id       n was handled and its transaction committed
//   ROLLEDBACK n    the commit was rolled back before it reached the broker: n comes again
//   INDOUBT n why   the commit was on the wire when the broker died. ActiveMQ cannot know whether it
//                   took effect and throws TransactionRolledBackException ("Transaction completion in
//                   doubt due to failover"), yet the dead broker may have committed it: then n was
//                   consumed by this handling and never comes again; if not, n comes again.
//   DLQ n why       n was found in ActiveMQ.DLQ, with the broker's reason
//   LEFT n id       n was still in QUEUE at the end (neither consumed nor dead-lettered)
//   DONE            the consumer stopped, ActiveMQ.DLQ was drained and QUEUE browsed
// The consumer stops when every acknowledged message was handled (RECV or INDOUBT) and nothing more
// arrived for QUIET_MILLIS, or at DEADLINE_SECONDS after the start: a real loss is reported, not
// waited for.
import java.util.Enumeration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.jms.*;
import org.apache.activemq.ActiveMQConnectionFactory;

public class FailoverCheck {
    static final long QUIET_MILLIS = 2_000;  // after the last expected message, wait this long for duplicates

    static synchronized void report(String kind, int n, String detail) {
        System.out.println(kind + " " + n + " " + detail);
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String queueName = args[1];
        int count = Integer.parseInt(args[2]);
        long deadline = System.currentTimeMillis() + 1000L * Integer.parseInt(args[3]);
        ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(url);
        // A send returns only once the broker has the message, so "SENT" means acknowledged. (Persistent
        // non-transacted sends are synchronous by default; this makes it independent of the URL's options.)
        factory.setAlwaysSyncSend(true);
        Connection connection = factory.createConnection();
        connection.start();

        Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
        Set<Integer> handled = ConcurrentHashMap.newKeySet();
        boolean[] sendsDone = {false};

        Thread consumer = new Thread(() -> {
            try {
                Session session = connection.createSession(true, Session.SESSION_TRANSACTED);
                MessageConsumer receiver = session.createConsumer(session.createQueue(queueName));
                long lastArrival = System.currentTimeMillis();
                while (System.currentTimeMillis() < deadline) {
                    Message message = receiver.receive(250);
                    if (message == null) {
                        boolean complete;
                        synchronized (sendsDone) {
                            complete = sendsDone[0] && handled.containsAll(acknowledged);
                        }
                        if (complete && System.currentTimeMillis() - lastArrival >= QUIET_MILLIS) break;
                        continue;
                    }
                    lastArrival = System.currentTimeMillis();
                    int n = message.getIntProperty("n");
                    try {
                        session.commit();
                        handled.add(n);
                        report("RECV", n, message.getJMSMessageID());
                    } catch (TransactionRolledBackException rolledBack) {
                        String why = String.valueOf(rolledBack.getMessage());
                        if (why.contains("in doubt")) {
                            handled.add(n);
                            report("INDOUBT", n, why);
                        } else {
                            report("ROLLEDBACK", n, why);
                        }
                    } catch (JMSException inDoubt) {
                        handled.add(n);
                        report("INDOUBT", n, String.valueOf(inDoubt));
                    }
                }
                session.close();
                drainDeadLetters(connection);
                browseLeftovers(connection, queueName);
                System.out.println("DONE");
            } catch (JMSException e) {
                e.printStackTrace();
                System.exit(3);
            }
        });

        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer producer = session.createProducer(session.createQueue(queueName));
        producer.setDeliveryMode(DeliveryMode.PERSISTENT);
        consumer.start();
        for (int n = 1; n <= count; n++) {
            TextMessage message = session.createTextMessage("order " + n);
            message.setIntProperty("n", n);
            try {
                producer.send(message);
                acknowledged.add(n);
                report("SENT", n, message.getJMSMessageID());
            } catch (JMSException notAcknowledged) {
                report("UNACKED", n, String.valueOf(notAcknowledged));
            }
            Thread.sleep(5);
        }
        synchronized (sendsDone) {
            sendsDone[0] = true;
        }
        consumer.join();
        connection.close();
    }

    // What the broker or the client dead-lettered on failover (duplicate detection, poison acks) is
    // not lost: it sits in ActiveMQ.DLQ, from where an operator can move it back.
    static void drainDeadLetters(Connection connection) throws JMSException {
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer receiver = session.createConsumer(session.createQueue("ActiveMQ.DLQ"));
        Message message;
        while ((message = receiver.receive(QUIET_MILLIS)) != null) {
            report("DLQ", message.getIntProperty("n"), String.valueOf(message.getStringProperty("dlqDeliveryFailureCause")));
        }
        session.close();
    }

    static void browseLeftovers(Connection connection, String queueName) throws JMSException {
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        QueueBrowser browser = session.createBrowser(session.createQueue(queueName));
        for (Enumeration<?> left = browser.getEnumeration(); left.hasMoreElements(); ) {
            Message message = (Message) left.nextElement();
            report("LEFT", message.getIntProperty("n"), message.getJMSMessageID());
        }
        session.close();
    }
}
