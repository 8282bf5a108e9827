from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_posting_attempts'),
    ]

    operations = [
        migrations.AddField(
            model_name='facebookaccount',
            name='last_health',
            field=models.CharField(blank=True, max_length=10),
        ),
    ]
