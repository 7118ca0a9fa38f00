// A JMS client on an ActiveMQ failover: URL, as an application would use MessageBroker.failover_url.
// Usage: FailoverCheck URL QUEUE COUNT
// Prints "SENT n" after each persistent send is acknowledged by the broker, "RECV n" after each
// received message's transaction committed, and "DONE" when nothing more arrives for 10 s.
import javax.jms.*;
import org.apache.activemq.ActiveMQConnectionFactory;

public class FailoverCheck {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        String queueName = args[1];
        int count = Integer.parseInt(args[2]);
        ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(url);
        Connection connection = factory.createConnection();
        connection.start();

        Thread consumer = new Thread(() -> {
            try {
                Session session = connection.createSession(true, Session.SESSION_TRANSACTED);
                MessageConsumer receiver = session.createConsumer(session.createQueue(queueName));
                while (true) {
                    Message message = receiver.receive(10_000);
                    if (message == null) break;
                    int n = message.getIntProperty("n");
                    try {
                        session.commit();
                        System.out.println("RECV " + n);
                    } catch (TransactionRolledBackException rolledBack) {
                        System.out.println("ROLLEDBACK " + n);  // redelivered later
                    }
                }
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
            producer.send(message);  // persistent, outside a transaction: synchronous
            System.out.println("SENT " + n);
            Thread.sleep(5);
        }
        consumer.join();
        connection.close();
    }
}
