DROP TABLE alert_marks;
